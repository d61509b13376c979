"""Recycle mode: reference answers fixed to drawn rules, with no model call, skips counted."""

import asyncio
import json

import pytest

from rnr_core.errors import RnrError
from rnr_core.generate import RunConfig, execute_run, start_run
from rnr_core.generate.plan import REFERENCE_MODEL
from rnr_core.generate.recycle import ROLES, reference_response
from rnr_core.ingest import ingest_file
from rnr_core.rules import build
from rnr_core.rules.conflicts import compatible
from rnr_core.rules.fixes import FIXERS
from rnr_core.rules.sampling import check_rules
from tests.conftest import DATA

USER = {"role": "user", "content": "Q?"}


@pytest.mark.parametrize(
    "messages, original, expected",
    [
        ([USER], {"instruction": "Q?", "output": " An answer. "}, "An answer."),
        ([USER], {"instruction": "Q?", "output": ""}, None),
        ([USER], {"instruction": "Q?"}, None),
        ([USER, {"role": "assistant", "content": "From the chat."}], {"output": "ignored"}, "From the chat."),
        # A chat ending on a user turn has no answer to that turn, even with earlier answers.
        ([USER, {"role": "assistant", "content": "Old."}, {"role": "user", "content": "More?"}], {}, None),
    ],
)
def test_the_reference_answer_is_the_reply_to_the_last_user_turn(messages, original, expected):
    assert reference_response(messages, original) == expected


def _never_called(messages, params):
    raise AssertionError("recycle mode must not call a model")


def _config(**kw) -> RunConfig:
    return RunConfig(
        **{"dataset": "alpaca", "model": "scripted", "n": 12, "k": 3, "rules": 2, "seed": 4, **kw}
    )


@pytest.fixture
def alpaca(store):
    ingest_file(store, DATA / "demo_alpaca.jsonl", "alpaca")
    return "alpaca"


def test_recycled_samples_are_reference_answers_fixed_to_the_rules_without_a_model(store, alpaca, scripted):
    model = scripted(_never_called)
    run = asyncio.run(execute_run(store, start_run(store, _config(mode="recycle"))))
    assert run["status"] == "completed" and run["counts"]["samples"] == 12
    assert not model.requests and not store.cached_keys()  # no llm_calls at all
    assert run["model"] == REFERENCE_MODEL and run["config"]["skipped"] == []
    originals = {
        json.loads(line)["instruction"]: json.loads(line)["output"]
        for line in open(DATA / "demo_alpaca.jsonl")
    }
    samples = store.list_samples(run_id=run["id"])
    passed = 0
    for s in samples:
        kinds = [r["kind"] for r in s["rules"]]
        assert len(kinds) == 2 and set(kinds) <= set(FIXERS) and compatible(kinds)
        assert s["role"] in ROLES.lines() and s["model"] == REFERENCE_MODEL
        assert s["provenance"]["source"] == "recycled"
        verdicts = {
            v["rule_id"]: v["verdict"] == "pass" for v in store.verdicts([s["id"]]) if v["judge"] == "checker"
        }
        assert verdicts == check_rules(s["rules"], s["response"])
        fixed = {f["rule_id"] for f in s["provenance"]["fixes"]}
        assert fixed <= {rid for rid, ok in verdicts.items() if ok}  # every recorded fix holds
        reference = originals[s["messages"][0]["content"].split("\n\n")[0]]
        if not fixed:
            assert s["response"] == reference
        passed += all(verdicts.values())
    assert passed >= 6  # most short reference answers can be made to follow two rules


def test_the_same_seed_recycles_the_same_samples_and_a_rerun_adds_nothing(store, alpaca, scripted):
    scripted(_never_called)
    a = asyncio.run(execute_run(store, start_run(store, _config(mode="recycle", n=6))))
    b = asyncio.run(execute_run(store, start_run(store, _config(mode="recycle", n=6))))
    texts = [
        [(s["system_prompt"], s["response"]) for s in store.list_samples(run_id=r["id"])] for r in (a, b)
    ]
    assert texts[0] == texts[1]
    again = asyncio.run(execute_run(store, a["id"]))
    assert again["status"] == "completed" and again["counts"]["samples"] == 6


def test_instructions_without_a_reference_are_skipped_and_counted(store, tmp_path, scripted):
    scripted(_never_called)
    rows = [{"instruction": f"Question {i}?", "output": f"Answer {i}." if i % 2 else ""} for i in range(10)]
    path = tmp_path / "half.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ingest_file(store, path, "half")
    run = asyncio.run(execute_run(store, start_run(store, _config(dataset="half", mode="recycle", n=4, k=2))))
    skipped = run["config"]["skipped"]
    assert run["status"] == "completed" and run["counts"]["samples"] == 4 and skipped
    sources = store.instruction_sources(skipped)
    assert all(reference_response(m, o) is None for m, o in sources.values())
    used = [s["instruction_id"] for s in store.list_samples(run_id=run["id"])]
    assert not set(used) & set(skipped)
    with pytest.raises(RnrError, match="has 5 instructions with a reference answer"):
        start_run(store, _config(dataset="half", mode="recycle", n=6))


def test_sharegpt_answers_are_recycled_with_their_earlier_turns(store, scripted):
    scripted(_never_called)
    ingest_file(store, DATA / "demo_sharegpt.jsonl", "chats")
    run = asyncio.run(
        execute_run(store, start_run(store, _config(dataset="chats", mode="recycle", n=4, k=2)))
    )
    assert run["status"] == "completed"
    for s in store.list_samples(run_id=run["id"]):
        assert s["messages"][-1]["role"] == "user"
        assert all(m["role"] != "system" for m in s["messages"])


def test_a_recycled_rule_that_cannot_be_fixed_leaves_a_failing_verdict(store, tmp_path, scripted):
    """Five bullets from a one-sentence answer would need invented text: the sample says it fails."""
    scripted(_never_called)
    rule = {"id": "r1", "kind": "detectable_format:number_bullet_lists", "kwargs": {"num_bullets": 5}}
    from rnr_core.generate.recycle import recycled

    text, made, verdicts = recycled([rule], [USER], {"output": "One sentence only."})
    assert text == "One sentence only." and made["fixes"] == [] and verdicts == {"r1": False}
    assert not build(rule["kind"], rule["kwargs"]).check(text)


def test_an_unknown_mode_is_refused_before_a_run_starts(store, alpaca, scripted):
    scripted(_never_called)
    with pytest.raises(RnrError, match="choose one of generate, recycle"):
        start_run(store, _config(mode="borrow"))
    assert store.list_runs() == []


def test_rnr_generate_recycles_and_reports_skips(tmp_path, capsys):
    from rnr_core.cli import main

    rows = [{"instruction": f"Question {i}?", "output": f"Answer {i}." if i % 2 else ""} for i in range(10)]
    path = tmp_path / "half.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    db = str(tmp_path / "cli.duckdb")
    assert main(["ingest", str(path), "--name", "half", "--db", db]) == 0
    capsys.readouterr()
    args = ["generate", "--dataset", "half", "--mode", "recycle", "-n", "4", "--k", "2", "--seed", "1"]
    assert main([*args, "--db", db, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "completed" and out["counts"]["samples"] == 4
    assert out["repairs"]["samples"] == {"recycled": 4} and out["repairs"]["skipped_no_reference"] >= 1
    assert main([*args, "--db", db]) == 0
    text = capsys.readouterr().out
    assert "4 recycled" in text and "with no reference answer" in text


def test_the_generate_page_starts_a_recycle_run_with_revision_and_fixer_controls(app_db):
    from rnr_app import state
    from tests.apptest import open_page, texts

    at = open_page("pages/generate.py")
    at.selectbox(key="gen_dataset").set_value("demo")
    assert at.number_input(key="gen_revisions").value == RunConfig.revisions
    assert at.checkbox(key="gen_fixers").value is False
    at.selectbox(key="gen_mode").set_value("recycle")
    at.checkbox(key="gen_fixers").check()
    at.number_input(key="gen_revisions").set_value(2)
    at.number_input(key="gen_n").set_value(4)
    at.button(key="gen_start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    state.jobs().wait(at.session_state["gen_job"], 60)
    run = state.store().get_run(at.session_state["gen_run"])
    assert run["status"] == "completed" and run["model"] == REFERENCE_MODEL
    assert run["config"]["mode"] == "recycle" and run["config"]["revisions"] == 2 and run["config"]["fixers"]
    assert "Skipped" not in texts(at)  # the demo's Alpaca instructions all have an answer
