"""Checker-guided revision and opt-in fixers in generation: requests, tries, provenance, resume."""

import asyncio
import json
import random

import pytest

from rnr_core.attempts import item_seed
from rnr_core.generate import execute_run, start_run
from rnr_core.generate.plan import OLD_RUN_DEFAULTS, plan_groups
from rnr_core.generate.repair import REVISE
from rnr_core.rules import build
from rnr_core.rules.sampling import draw_rules
from tests.conftest import ingest_questions, one_group

LOWER = "change_case:english_lowercase"
NO_RULES_SP = json.dumps({"role": "You are a patient cooking tutor.", "rules": []})
FAILING, REVISED = "An Answer With Capitals.", "a lowercase answer."
REVISE_OPENING = REVISE.text.split("\n", 1)[0]


def _seed_drawing(kind: str) -> int:
    """A run seed whose one verifiable rule is `kind`, found through the pipeline's own draw."""
    for seed in range(1000):
        rng = random.Random(item_seed(seed, "g0000:system:verifiable"))
        if draw_rules(rng, 1, 1)[0]["kind"] == kind:
            return seed
    raise AssertionError(f"no seed below 1000 draws {kind}")


def _teacher(messages, params):
    """A system prompt with no free-form rules; a reply with capitals, lowercase when asked to revise."""
    if params.json_schema:
        return NO_RULES_SP
    return REVISED if messages[-1]["content"].startswith(REVISE_OPENING) else FAILING


def _run(store, **kw) -> dict:
    config = one_group(rules=1, verifiable_share=1.0, seed=_seed_drawing(LOWER), **kw)
    return asyncio.run(execute_run(store, start_run(store, config)))


@pytest.fixture
def questions(store, tmp_path):
    return ingest_questions(store, tmp_path, 3)


def test_a_failing_reply_is_sent_back_with_the_broken_rule_and_the_revision_is_kept(
    store, questions, scripted
):
    model = scripted(_teacher)
    run = _run(store, rejections=1, revisions=1)
    assert run["status"] == "completed"
    samples = store.list_samples(run_id=run["id"])
    assert [s["response"] for s in samples] == [REVISED] * 3
    rule_text = build(LOWER).render()
    revision_requests = [m for m, p in model.requests if m[-1]["content"].startswith(REVISE_OPENING)]
    assert len(revision_requests) == 3
    for messages in revision_requests:
        assert f"- {rule_text}" in messages[-1]["content"]
        assert messages[-2] == {"role": "assistant", "content": FAILING}
        assert messages[0]["role"] == "system" and rule_text in messages[0]["content"]
    for s in samples:
        assert s["provenance"] == {
            "source": "generated",
            "revisions": 1,
            "failed_kinds": [LOWER],
            "revised_kinds": [LOWER],
            "fixes": [],
        }
        tries = store.attempts(s["id"])
        assert [(t["attempt"], t["revision"], t["passed"], t["kept"]) for t in tries] == [
            (1, None, False, False),
            (2, None, False, False),
            (3, 1, True, True),
        ]
        assert tries[2]["seed"] == tries[0]["seed"] + 2  # the item's next seed
        assert {v["verdict"] for v in store.verdicts([s["id"]])} == {"pass"}
    log = store.attempt_log(run["id"])
    assert sorted({(r["stage"], r["template"]) for r in log if r["stage"] != "system_prompt"}) == [
        ("response", "response_guidance.v1+tempting_turn.v1"),
        ("revision", "revise.v1"),
    ]
    assert store.repair_counts(run["id"]) == [{"kind": LOWER, "failed": 3, "revised": 3, "fixed": 0}]
    assert store.provenance_counts(run["id"]) == {"revised": 3}


def test_the_same_run_again_replays_its_revisions_from_the_call_cache(store, questions, scripted):
    model = scripted(_teacher)
    first = _run(store, rejections=0, revisions=1)
    calls = len(model.requests)
    again = _run(store, rejections=0, revisions=1)
    assert len(model.requests) == calls  # every request, revisions included, answered by the cache
    cached = [r["cached"] for r in store.attempt_log(again["id"]) if r["stage"] == "revision"]
    assert cached == [True] * 3
    responses = [[s["response"] for s in store.list_samples(run_id=r["id"])] for r in (first, again)]
    assert responses[0] == responses[1] == [REVISED] * 3


def test_a_revision_that_still_fails_keeps_the_best_try_and_counts_the_round(store, questions, scripted):
    scripted(lambda m, p: NO_RULES_SP if p.json_schema else FAILING)
    run = _run(store, rejections=0, revisions=2)
    s = store.list_samples(run_id=run["id"])[0]
    assert s["response"] == FAILING
    assert s["provenance"]["revisions"] == 2 and s["provenance"]["revised_kinds"] == []
    assert [t["revision"] for t in store.attempts(s["id"])] == [None, 1, 2]
    assert store.provenance_counts(run["id"]) == {"generated": 3}
    assert store.repair_counts(run["id"]) == [{"kind": LOWER, "failed": 3, "revised": 0, "fixed": 0}]


def test_fixers_are_opt_in_and_recorded_in_provenance(store, questions, scripted):
    scripted(lambda m, p: NO_RULES_SP if p.json_schema else FAILING)
    plain = _run(store, rejections=0, revisions=0)
    s = store.list_samples(run_id=plain["id"])[0]
    assert s["response"] == FAILING and s["provenance"] is None
    assert {v["verdict"] for v in store.verdicts([s["id"]])} == {"fail"}

    fixed = _run(store, rejections=0, revisions=0, fixers=True)
    s = store.list_samples(run_id=fixed["id"])[0]
    assert s["response"] == FAILING.lower()
    assert s["provenance"]["fixes"] == [{"rule_id": "r1", "kind": LOWER, "fixer": "lowercase"}]
    assert s["provenance"]["revisions"] == 0
    assert {v["verdict"] for v in store.verdicts([s["id"]])} == {"pass"}  # the final text's verdicts
    kept = [t for t in store.attempts(s["id"]) if t["kept"]]
    assert [t["response"] for t in kept] == [FAILING]  # the model's own reply stays on record
    assert store.provenance_counts(fixed["id"]) == {"fixed": 3}


def test_a_passing_reply_is_neither_revised_nor_fixed(store, questions, scripted):
    model = scripted(lambda m, p: NO_RULES_SP if p.json_schema else REVISED)
    run = _run(store, revisions=1, fixers=True)
    assert all(s["provenance"] is None for s in store.list_samples(run_id=run["id"]))
    assert not [m for m, p in model.requests if m[-1]["content"].startswith(REVISE_OPENING)]


def test_a_run_recorded_before_repairs_existed_resumes_without_them(store, questions, scripted):
    model = scripted(lambda m, p: NO_RULES_SP if p.json_schema else FAILING)
    config = one_group(rules=1, verifiable_share=1.0, seed=_seed_drawing(LOWER))
    planned = plan_groups(config, store.instruction_ids(store.dataset_id(questions))).as_dict()
    for name in ("revisions", "fixers", "mode", "skipped"):
        del planned[name]
    store.create_run("run-old", store.dataset_id(questions), "scripted", planned)
    run = asyncio.run(execute_run(store, "run-old"))
    assert run["status"] == "completed" and run["counts"]["samples"] == 3
    assert not [m for m, p in model.requests if m[-1]["content"].startswith(REVISE_OPENING)]
    assert all(s["provenance"] is None for s in store.list_samples(run_id="run-old"))
    assert OLD_RUN_DEFAULTS["revisions"] == 0 and OLD_RUN_DEFAULTS["fixers"] is False


def test_cli_flags_set_revisions_fixers_and_mode():
    from rnr_core.cli import _run_config, build_parser
    from rnr_core.generate import RunConfig

    parse = build_parser().parse_args
    given = parse(["generate", "--dataset", "d", "--revisions", "2", "--fixers", "--mode", "recycle"])
    assert _run_config(given) == RunConfig(dataset="d", revisions=2, fixers=True, mode="recycle")
    assert _run_config(parse(["generate", "--dataset", "d"])) == RunConfig(dataset="d")
    assert RunConfig(dataset="d").revisions == 1 and RunConfig(dataset="d").fixers is False
