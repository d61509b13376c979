"""Stores for the app's tests: the demo instructions, and samples with hostile text and verdicts."""

from pathlib import Path

from rnr_core.ingest import ingest_file
from rnr_core.rules import render_system_prompt, rule_record
from rnr_core.store import Store

DEMO = Path(__file__).resolve().parent.parent / "data" / "demo_alpaca.jsonl"
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"
RULES = [
    rule_record(1, "Answer in English only.", "language", "language:response_language", {"language": "en"}),
    rule_record(2, "Keep a friendly, plain tone.", "style"),
]


ROLE = "You are a patient museum guide who explains exhibits to visitors."


def add_sample(
    store: Store, run_id: str, group: int, instruction: str, response: str, verdicts=(), role: str = ROLE
) -> int:
    """One sample in its own system-prompt group (a prompt of `role` and RULES), with (rule_id, judge,
    verdict) verdicts."""
    prompt_id = store.add_system_prompt(
        run_id, group, role, RULES, render_system_prompt(role, RULES), "scripted", "sp.test"
    )
    sample_id = store.add_sample(
        {
            "run_id": run_id,
            "item_key": f"g{group}",
            "system_prompt_id": prompt_id,
            "kind": "instruction",
            "messages": [{"role": "user", "content": instruction}],
            "response": response,
            "model": "scripted",
            "template": "resp.test",
            "params": {},
            "seed": group,
        }
    )
    for rule_id, judge, verdict in verdicts:
        store.add_verdicts(sample_id, judge, [{"rule_id": rule_id, "verdict": verdict, "rationale": "seen"}])
    return sample_id


def seed(path) -> dict:
    """The demo dataset, and a hand-made run whose samples the pages can show; returns their ids."""
    with Store(str(path)) as store:
        ingest_file(store, DEMO, "demo")
        store.create_run("run-fixture", store.dataset_id("demo"), "scripted", {"dataset": "demo"})
        store.set_run_status("run-fixture", "completed")
        ids = {
            "disputed": add_sample(
                store,
                "run-fixture",
                0,
                f"Tell me about this exhibit. {SCRIPT}",
                f"Sure! {IMG} It is old.",
                [("r1", "checker", "pass"), ("r1", "llm:scripted", "fail"), ("r2", "llm:scripted", "pass")],
            ),
            "plain": add_sample(
                store,
                "run-fixture",
                1,
                "Where is the cafe?",
                "The cafe is on the first floor.",
                [("r1", "checker", "pass"), ("r2", "llm:scripted", "pass")],
            ),
            "failing": add_sample(
                store,
                "run-fixture",
                2,
                "Say it in French.",
                "Bonjour, le café est en haut.",
                [("r1", "checker", "fail"), ("r2", "llm:scripted", "pass")],
            ),
        }
    return ids
