"""Rule-aware generation, the judge and pass-rate metrics, with scripted models for the logic."""

import asyncio
import json

import pytest

from rnr_core.errors import ModelCallError, NotFound
from rnr_core.generate import RunConfig, execute_run, start_run
from rnr_core.ingest import ingest_file
from rnr_core.judge import judge_samples
from rnr_core.rules import build
from rnr_core.rules.conflicts import compatible
from rnr_core.rules.sampling import check_rules
from rnr_core.stats import quality

FREE_RULES = [
    {"text": "Keep a friendly, encouraging tone.", "category": "style"},
    {"text": "Never give medical advice.", "category": "safety"},
]


def system_prompt_reply(params) -> str:
    """A valid system-prompt reply with as many free-form rules as the schema asks for."""
    n = params.json_schema["properties"]["rules"]["minItems"]
    return json.dumps({"role": "You are a concise study helper.", "rules": FREE_RULES[:n]})


@pytest.fixture
def dataset(store, tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps({"instruction": f"Explain topic {i}."}) + "\n" for i in range(8)))
    ingest_file(store, path, "d")
    return "d"


def config(**kw):
    return RunConfig(
        **{
            "dataset": "d",
            "model": "scripted",
            "n": 2,
            "k": 2,
            "rules": 4,
            "seed": 5,
            "tempting": False,
            "out_of_scope": False,
            **kw,
        }
    )


FIXED = [
    {
        "id": "r3",
        "text": "Do not use any commas in the response.",
        "category": "style",
        "kind": "punctuation:no_comma",
        "kwargs": {},
    },
    {
        "id": "r4",
        "text": "Answer with fewer than 4 words.",
        "category": "length",
        "kind": "length_constraints:number_words",
        "kwargs": {"num_words": 4, "relation": "less than"},
    },
]


def scripted_attempts(replies: list[str]):
    """System prompts as asked; responses taken in turn from `replies` for each conversation."""
    seen: dict[str, int] = {}

    def answer(messages, params):
        if params.json_schema:
            return system_prompt_reply(params)
        key = messages[-1]["content"]
        seen[key] = seen.get(key, 0) + 1
        return replies[min(seen[key], len(replies)) - 1]

    return answer


def test_prompts_mix_drawn_verifiable_rules_with_written_ones(store, dataset, scripted):
    scripted(scripted_attempts(["Fine reply."]))
    run = asyncio.run(
        execute_run(store, start_run(store, config(rules=4, verifiable_share=0.5, rejections=0)))
    )
    assert run["status"] == "completed"
    rules = store.system_prompt(run["id"], 0)["rules"]
    assert [r["id"] for r in rules] == ["r1", "r2", "r3", "r4"]
    assert [r["kind"] for r in rules[:2]] == [None, None]
    kinds = [r["kind"] for r in rules[2:]]
    assert all(kinds) and compatible(kinds)
    for r in rules[2:]:
        assert r["text"] == build(r["kind"], r["kwargs"]).render()
    text = store.system_prompt(run["id"], 0)["text"]
    assert all(r["text"] in text for r in rules)


def test_same_seed_draws_same_rules_and_share_zero_draws_none(store, dataset, scripted):
    scripted(scripted_attempts(["Fine reply."]))
    a = asyncio.run(execute_run(store, start_run(store, config(rejections=0))))
    b = asyncio.run(execute_run(store, start_run(store, config(rejections=0))))
    c = asyncio.run(execute_run(store, start_run(store, config(rejections=0, verifiable_share=0.0, rules=2))))
    rules = lambda run: store.system_prompt(run["id"], 0)["rules"]  # noqa: E731
    assert rules(a) == rules(b)
    assert [r["kind"] for r in rules(c)] == [None, None]


def test_rejection_stops_at_the_first_passing_attempt(store, dataset, scripted, monkeypatch):
    monkeypatch.setattr("rnr_core.generate.pipeline.draw_rules", lambda rng, n, first: FIXED)
    scripted(scripted_attempts(["one, two", "one two", "never reached"]))
    run = asyncio.run(execute_run(store, start_run(store, config(rejections=2))))
    for s in store.list_samples(run_id=run["id"]):
        assert s["response"] == "one two"
        attempts = store.attempts(s["id"])
        assert [(a["passed"], a["kept"]) for a in attempts] == [(False, False), (True, True)]
        verdicts = {v["rule_id"]: v["verdict"] for v in store.verdicts([s["id"]])}
        assert verdicts == {"r3": "pass", "r4": "pass"}


def test_rejection_keeps_the_best_attempt_when_none_passes(store, dataset, scripted, monkeypatch):
    monkeypatch.setattr("rnr_core.generate.pipeline.draw_rules", lambda rng, n, first: FIXED)
    scripted(scripted_attempts(["one, two, three, four, five", "one, two", "a, b, c, d, e, f"]))
    # Rejection sampling alone: a revision round would add a fourth try (tests/test_revision.py).
    run = asyncio.run(execute_run(store, start_run(store, config(rejections=2, revisions=0))))
    samples = store.list_samples(run_id=run["id"])
    assert len(samples) == 2 and run["status"] == "completed"
    for s in samples:
        assert s["response"] == "one, two"
        attempts = store.attempts(s["id"])
        assert len(attempts) == 3 and [a["kept"] for a in attempts] == [False, True, False]
        assert attempts[0]["verdicts"] == {"r3": False, "r4": False}
        verdicts = {v["rule_id"]: (v["verdict"], v["judge"]) for v in store.verdicts([s["id"]])}
        assert verdicts == {"r3": ("fail", "checker"), "r4": ("pass", "checker")}


def judge_reply(verdict="pass"):
    def answer(messages, params):
        ids = params.json_schema["required"]
        return json.dumps({r: {"verdict": verdict, "rationale": f"{r} looked {verdict}"} for r in ids})

    return answer


@pytest.fixture
def free_run(store, dataset, scripted):
    scripted(scripted_attempts(["Fine reply."]))
    return asyncio.run(execute_run(store, start_run(store, config(rules=2, verifiable_share=0.0))))["id"]


def test_llm_judge_gives_a_verdict_per_free_form_rule_and_resumes(store, free_run, scripted):
    judge = scripted(judge_reply("fail"), spec="judge-model")
    summary = asyncio.run(judge_samples(store, run_id=free_run, judge="judge-model"))
    assert summary["llm_verdicts"] == 4 and summary["unknown"] == 0
    rows = store.verdicts([s["id"] for s in store.list_samples(run_id=free_run)])
    assert {(r["rule_id"], r["judge"], r["verdict"]) for r in rows} == {
        ("r1", "llm:judge-model", "fail"),
        ("r2", "llm:judge-model", "fail"),
    }
    assert all(r["rationale"].endswith("looked fail") for r in rows)
    # the request shows the judge the system prompt, the response and only the rules it judges
    text = judge.requests[0][0][0]["content"]
    assert "You are a concise study helper." in text and "Fine reply." in text and "- r1:" in text
    calls = len(judge.requests)
    again = asyncio.run(judge_samples(store, run_id=free_run, judge="judge-model"))
    assert again["llm_samples"] == 0 and len(judge.requests) == calls


def test_unparsable_judge_replies_are_stored_as_unknown_then_retried(store, free_run, scripted):
    bad = scripted(lambda m, p: "I think it passes", spec="judge-model")
    summary = asyncio.run(judge_samples(store, run_id=free_run, judge="judge-model", max_retries=1))
    assert summary["unknown"] == 4 and len(bad.requests) == 4  # 2 samples x (1 + 1 retry)
    rows = store.verdicts([s["id"] for s in store.list_samples(run_id=free_run)])
    assert {r["verdict"] for r in rows} == {"unknown"}
    assert all(r["raw_output"] == "I think it passes" for r in rows)
    assert quality(store.samples_with_verdicts(free_run))["unjudged_samples"] == 2
    scripted(judge_reply("pass"), spec="judge-model")
    asyncio.run(judge_samples(store, run_id=free_run, judge="judge-model", max_retries=1))
    assert quality(store.samples_with_verdicts(free_run))["pass_rate"]["rate"] == 1.0


def test_unreachable_judge_stops_and_stores_nothing(store, free_run, scripted):
    scripted(lambda m, p: ModelCallError("connection refused", transient=True), spec="judge-model")
    with pytest.raises(ModelCallError, match="verdicts so far are saved; judging again does the rest"):
        asyncio.run(judge_samples(store, run_id=free_run, judge="judge-model"))
    assert store.verdicts([s["id"] for s in store.list_samples(run_id=free_run)]) == []


def test_judge_names_unknown_scope(store):
    with pytest.raises(NotFound, match="No run"):
        asyncio.run(judge_samples(store, run_id="run-nope"))
    with pytest.raises(NotFound, match="No dataset"):
        asyncio.run(judge_samples(store, dataset="nope"))


def test_verdicts_of_judges_sit_side_by_side_and_precedence_decides(store, free_run):
    sample = store.list_samples(run_id=free_run)[0]["id"]
    store.add_verdicts(
        sample, "llm:a", [{"rule_id": "r1", "verdict": "pass"}, {"rule_id": "r2", "verdict": "pass"}]
    )
    store.add_verdicts(sample, "human:ann", [{"rule_id": "r1", "verdict": "fail", "rationale": "rude"}])
    rows = store.verdicts([sample])
    assert {(r["rule_id"], r["judge"]) for r in rows} == {
        ("r1", "llm:a"),
        ("r2", "llm:a"),
        ("r1", "human:ann"),
    }
    q = quality([s for s in store.samples_with_verdicts(free_run) if s["id"] == sample])
    assert q["pass_rate"]["rate"] == 0.0  # the person's fail overrides the LLM's pass
    with pytest.raises(ValueError):
        store.add_verdicts(sample, "llm:a", [{"rule_id": "r1", "verdict": "maybe"}])


def test_checker_judging_fills_in_missing_checker_verdicts(store, dataset, scripted, monkeypatch):
    monkeypatch.setattr("rnr_core.generate.pipeline.draw_rules", lambda rng, n, first: FIXED)
    scripted(scripted_attempts(["one, two"]))
    run = asyncio.run(execute_run(store, start_run(store, config(rejections=0))))["id"]
    store.con.execute("DELETE FROM verdicts")
    summary = asyncio.run(judge_samples(store, run_id=run))
    assert summary["checker_verdicts"] == 4 and summary["judge"] is None
    for s in store.samples_with_verdicts(run):
        got = {v["rule_id"]: v["verdict"] == "pass" for v in s["verdicts"]}
        assert got == check_rules(s["rules"], s["response"]) == {"r3": False, "r4": True}


def test_runs_recorded_before_rule_kinds_resume_with_free_form_rules(store, dataset, scripted):
    scripted(scripted_attempts(["Fine reply."]))
    run_id = start_run(store, config(rules=2))
    old = {
        k: v
        for k, v in store.get_run(run_id)["config"].items()
        if k not in ("verifiable_share", "rejections")
    }
    store.con.execute("UPDATE runs SET config = ? WHERE id = ?", [json.dumps(old), run_id])
    assert asyncio.run(execute_run(store, run_id))["status"] == "completed"
    assert [r["kind"] for r in store.system_prompt(run_id, 0)["rules"]] == [None, None]


def test_a_new_judge_template_judges_again_instead_of_reusing_stale_verdicts(
    store, free_run, scripted, monkeypatch
):
    from rnr_core.judge import llm
    from rnr_core.prompts import PromptTemplate

    judge = scripted(judge_reply("pass"), spec="judge-model")
    asyncio.run(judge_samples(store, run_id=free_run, judge="judge-model"))
    asked = len(judge.requests)
    asyncio.run(judge_samples(store, run_id=free_run, judge="judge-model"))
    assert len(judge.requests) == asked  # same judge, same template: reused
    newer = PromptTemplate("judge", "v9", llm.TEMPLATE.text + "\nBe strict.")
    monkeypatch.setattr(llm, "TEMPLATE", newer)
    summary = asyncio.run(judge_samples(store, run_id=free_run, judge="judge-model"))
    assert summary["llm_samples"] == 2 and len(judge.requests) == asked + 2
    rows = store.verdicts([s["id"] for s in store.list_samples(run_id=free_run)])
    assert {r["template"] for r in rows} == {"judge.v9"}


def test_judge_tries_follow_the_one_seed_policy_and_continue_after_an_unknown_round(
    store, free_run, scripted
):
    bad = scripted(lambda m, p: "no idea", spec="judge-model")
    asyncio.run(judge_samples(store, run_id=free_run, judge="judge-model", max_retries=1))
    first = [p.seed for _, p in bad.requests]
    asyncio.run(judge_samples(store, run_id=free_run, judge="judge-model", max_retries=1))
    second = [p.seed for _, p in bad.requests[len(first) :]]
    assert len(second) == 4 and not set(first) & set(second)  # a new round is no cache hit
    sample = store.list_samples(run_id=free_run)[0]["id"]
    log = store.attempt_log("judge:llm:judge-model:judge.v1", f"sample:{sample}")
    assert [r["attempt"] for r in log] == [1, 2, 3, 4]
    assert [r["seed"] - log[0]["seed"] for r in log] == [0, 1, 2, 3]
    assert {r["outcome"] for r in log} == {"invalid"} and log[0]["raw_output"] == "no idea"
