"""The demo a new user meets: hand-written samples that show what the tool is for, the bundled
instructions, and a few more samples from the embedded model."""

import json
from pathlib import Path

from rnr_core.errors import IngestError, RnrError
from rnr_core.evaluate.benchmark import freeze
from rnr_core.generate import start_run
from rnr_core.generate.plan import RunConfig
from rnr_core.ingest import ingest_file
from rnr_core.rules import CATEGORIES, KINDS, build, render_system_prompt
from rnr_core.rules.checking import CHECKER, checker_verdicts
from rnr_core.rules.sampling import check_rules

DATA = Path(__file__).resolve().parent.parent / "data"
DEMO_FILE = DATA / "demo_alpaca.jsonl"
SAMPLES_FILE = DATA / "demo_samples.jsonl"
# The hand-written samples are one completed run of the demo dataset, written by people, not a model.
CURATED_RUN, CURATED_MODEL, CURATED_TEMPLATE = "demo-curated", "hand-written", "demo.v1"
DEMO_BENCHMARK = "demo"
SAMPLE_KINDS = ("plain", "tempting", "out_of_scope")
# Small enough that the first samples show within a minute or two on 2 cores: two groups of two,
# short replies, no extra turns; the tiny model needs the quality gate off.
DEMO_RUN = RunConfig(
    dataset="demo",
    model="local",
    n=4,
    k=2,
    rules=2,
    tempting=False,
    out_of_scope=False,
    quality_gate=False,
    max_tokens=200,
    seed=7,
)


def seed_demo(store, jobs, path: Path = DEMO_FILE, samples: Path = SAMPLES_FILE) -> str | None:
    """On an empty store, import the demo instructions and the hand-written samples, then start
    generating more in the background; the job id."""
    if store.list_datasets() or not path.is_file():
        return None
    with store.transaction():  # all of the demo or none of it: a half-seeded store is never re-seeded
        ingest_file(store, path, DEMO_RUN.dataset)
        if samples.is_file():
            import_curated(store, load_curated(samples), DEMO_RUN.dataset)
            # Frozen at once, so the Compare page has a benchmark to evaluate models on from the start.
            freeze(store, DEMO_BENCHMARK, run_id=CURATED_RUN)
    return jobs.start("generate", run_id=start_run(store, DEMO_RUN))


def load_curated(path: Path) -> list[dict]:
    """The system prompts of a hand-written sample file (one JSON object per line), validated."""
    prompts = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path.name} line {line_no}"
        try:
            prompts.append(_prompt(json.loads(line)))
        except (json.JSONDecodeError, RnrError, KeyError, TypeError, AttributeError) as exc:
            raise IngestError(f"{where}: {_why(exc)}. Fix the line; nothing was imported.") from exc
    return prompts


def _why(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    return str(exc)


def _prompt(data: dict) -> dict:
    """One system prompt: its role, its rules (checked against the registry) and its samples."""
    role = data["role"].strip()
    rules = [_rule(r, f"rule {i}") for i, r in enumerate(data["rules"], 1)]
    ids = {r["id"] for r in rules}
    if not role or not rules or len(ids) != len(rules):
        raise IngestError("a prompt needs a role, and rules with distinct ids")
    samples = [_sample(s, ids, f"sample {j}") for j, s in enumerate(data["samples"], 1)]
    return {"role": role, "rules": rules, "samples": samples}


def _rule(data: dict, where: str) -> dict:
    """A rule as stored; a verifiable one takes its kind's category and must build with its kwargs."""
    kind = data.get("kind")
    if kind:
        build(kind, data.get("kwargs") or {}, where=where)
        category = KINDS[kind].category
    else:
        category = data["category"]
        if category not in CATEGORIES:
            raise IngestError(f"{where}: category {category!r} is not one of {', '.join(CATEGORIES)}")
    return {
        "id": data["id"],
        "text": data["text"].strip(),
        "category": category,
        "kind": kind,
        "kwargs": data.get("kwargs") if kind else None,
    }


def _sample(data: dict, rule_ids: set[str], where: str) -> dict:
    """A sample; `breaks` (the rules its response breaks on purpose) is for the data's own tests."""
    if data["kind"] not in SAMPLE_KINDS:
        raise IngestError(f"{where}: kind {data['kind']!r} is not one of {', '.join(SAMPLE_KINDS)}")
    named = {data.get("target_rule"), *data.get("breaks", [])} - {None}
    if named - rule_ids:
        raise IngestError(f"{where}: names rule {sorted(named - rule_ids)[0]!r}, which the prompt lacks")
    turns = data["messages"]
    if not turns or turns[-1]["role"] != "user" or not data["response"].strip():
        raise IngestError(f"{where}: needs messages ending with a user turn, and a response")
    return {
        "kind": data["kind"],
        "target_rule": data.get("target_rule"),
        "messages": turns,
        "response": data["response"].strip(),
    }


def import_curated(store, prompts: list[dict], dataset: str) -> str:
    """Store hand-written prompts and samples as one completed run of `dataset`, each verifiable rule
    judged by its checker; the run id."""
    with store.transaction():
        store.create_run(CURATED_RUN, store.dataset_id(dataset), CURATED_MODEL, _run_config(prompts, dataset))
        for g, prompt in enumerate(prompts):
            _import_prompt(store, g, prompt)
        store.set_run_status(CURATED_RUN, "completed")
    return CURATED_RUN


def _run_config(prompts: list[dict], dataset: str) -> dict:
    return {
        "dataset": dataset,
        "model": CURATED_MODEL,
        "source": SAMPLES_FILE.name,
        "system_prompts": len(prompts),
        "samples": sum(len(p["samples"]) for p in prompts),
    }


def _import_prompt(store, g: int, prompt: dict) -> None:
    text = render_system_prompt(prompt["role"], prompt["rules"])
    prompt_id = store.add_system_prompt(
        CURATED_RUN, g, prompt["role"], prompt["rules"], text, CURATED_MODEL, CURATED_TEMPLATE
    )
    store.record_item(CURATED_RUN, f"g{g:04d}:system", "system_prompt", "done", 1)
    for j, sample in enumerate(prompt["samples"]):
        key = f"g{g:04d}:s{j}"
        sample_id = store.add_sample(
            {
                "run_id": CURATED_RUN,
                "item_key": key,
                "system_prompt_id": prompt_id,
                **sample,
                "model": CURATED_MODEL,
                "template": CURATED_TEMPLATE,
                "params": {},
                "seed": 0,
            }
        )
        verdicts = check_rules(prompt["rules"], sample["response"])
        if verdicts:
            store.add_verdicts(sample_id, CHECKER, checker_verdicts(verdicts))
        store.record_item(CURATED_RUN, key, "response", "done", 1)


def home_line(store) -> str | None:
    """What the demo is and what to do next, while the store holds the demo."""
    if CURATED_RUN not in store.run_statuses():
        return None
    return (
        f"Demo: hand-written samples (run {CURATED_RUN}) show roles, rules and checker verdicts, and the "
        "embedded model adds a few. Next: review them on Review, then pick your model under Model in the "
        "sidebar and run Generate."
    )
