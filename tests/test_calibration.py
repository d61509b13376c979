"""Calibrating the LLM judge against the checkers: asking it about verifiable rules, and the numbers."""

import asyncio
import json

import pytest

from rnr_core.calibration import calibration
from rnr_core.errors import NotFound
from rnr_core.generate import execute_run, start_run
from rnr_core.ingest import ingest_file
from rnr_core.judge import judge_samples
from rnr_core.stats import UNTRUSTED_JUDGE, effective_verdict
from tests.test_judging import FIXED, config, judge_reply, scripted_attempts


@pytest.fixture
def mixed_run(store, tmp_path, scripted, monkeypatch):
    """Six samples, each with two free-form rules (r1, r2) and two verifiable ones (r3: no commas,
    style; r4: fewer than 4 words, length), all answered "one, two": r3 fails, r4 passes."""
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps({"instruction": f"Explain topic {i}."}) + "\n" for i in range(8)))
    ingest_file(store, path, "d")
    monkeypatch.setattr("rnr_core.generate.pipeline.draw_rules", lambda rng, n, first: FIXED)
    scripted(scripted_attempts(["one, two"]))
    run = asyncio.run(execute_run(store, start_run(store, config(n=6, k=2, rejections=0))))
    assert len(store.list_samples(run_id=run["id"])) == 6
    return run["id"]


def llm_rules(store, run_id: str, judge: str) -> set[tuple[int, str]]:
    ids = [s["id"] for s in store.list_samples(run_id=run_id)]
    return {(v["sample_id"], v["rule_id"]) for v in store.verdicts(ids) if v["judge"] == judge}


def test_calibrate_asks_the_judge_about_verifiable_rules_once_and_the_checker_still_decides(
    store, mixed_run, scripted
):
    judge = scripted(judge_reply("pass"), spec="judge-model")
    plain = asyncio.run(judge_samples(store, run_id=mixed_run, judge="judge-model"))
    assert plain["llm_verdicts"] == 12  # free-form only without calibrate
    assert {r for _, r in llm_rules(store, mixed_run, "llm:judge-model")} == {"r1", "r2"}
    asked = len(judge.requests)
    summary = asyncio.run(judge_samples(store, run_id=mixed_run, judge="judge-model", calibrate=True))
    # only the verifiable rules are asked now: the free-form ones already have this judge's verdicts
    assert summary["llm_verdicts"] == 12 and summary["llm_samples"] == 6
    assert all(p.json_schema["required"] == ["r3", "r4"] for _, p in judge.requests[asked:])
    assert {r for _, r in llm_rules(store, mixed_run, "llm:judge-model")} == {"r1", "r2", "r3", "r4"}
    # the judge said pass on r3, the checker fail: the checker decides
    for s in store.samples_with_verdicts(mixed_run):
        r3 = [v for v in s["verdicts"] if v["rule_id"] == "r3"]
        assert {v["judge"]: v["verdict"] for v in r3} == {"checker": "fail", "llm:judge-model": "pass"}
        assert effective_verdict(r3) == "fail"
    asked = len(judge.requests)
    again = asyncio.run(judge_samples(store, run_id=mixed_run, judge="judge-model", calibrate=True))
    assert again["llm_samples"] == 0 and len(judge.requests) == asked


def test_calibration_numbers_on_hand_inserted_verdicts(store, mixed_run):
    samples = [s["id"] for s in store.list_samples(run_id=mixed_run)][:4]
    judged = {"r3": ["fail", "fail", "pass", "pass"], "r4": ["pass", "pass", "pass", "fail"]}
    for i, sample in enumerate(samples):
        rows = [{"rule_id": r, "verdict": v[i], "rationale": "by hand"} for r, v in judged.items()]
        store.add_verdicts(sample, "llm:hand", rows, "judge.v1")
    # an older judge, and a free-form verdict: neither is part of llm:hand's calibration
    store.add_verdicts(samples[0], "llm:old", [{"rule_id": "r3", "verdict": "fail"}], "judge.v1")
    store.add_verdicts(samples[0], "llm:hand", [{"rule_id": "r1", "verdict": "fail"}], "judge.v1")
    result = calibration(store, judge="hand", run_id=mixed_run)
    assert result["judge"] == "llm:hand" and result["n"] == 8
    # checker: r3 fails, r4 passes on every sample. Overall 5 of 8 agree; pass shares 4/8 (checker) and
    # 5/8 (judge): chance agreement 0.5 * 0.625 + 0.5 * 0.375 = 0.5, kappa (0.625 - 0.5) / 0.5 = 0.25.
    overall = result["overall"]
    assert overall["accuracy"] == 0.625 and overall["kappa"] == pytest.approx(0.25)
    assert overall["confusion"] == [[3, 1], [2, 2]]
    style, length = result["by_category"]["style"], result["by_category"]["length"]
    assert style["accuracy"] == 0.5 and style["n"] == 4
    assert length["accuracy"] == 0.75 and length["n"] == 4
    # fewer than MIN_LABELS pairs: no verdict on trust, no warning
    assert result["trusted"] is None and result["warning"] is None
    assert calibration(store, judge="llm:hand", dataset="d")["n"] == 8


def test_calibration_warns_on_an_untrusted_judge_and_picks_the_latest(store, mixed_run):
    samples = [s["id"] for s in store.list_samples(run_id=mixed_run)]
    for sample in samples:  # always the opposite of the checker: kappa -1 on 12 pairs
        rows = [{"rule_id": "r3", "verdict": "pass"}, {"rule_id": "r4", "verdict": "fail"}]
        store.add_verdicts(sample, "llm:early", rows)
    assert calibration(store, run_id=mixed_run)["judge"] == "llm:early"
    for sample in samples[:1]:
        store.add_verdicts(sample, "llm:later", [{"rule_id": "r3", "verdict": "fail"}])
    assert calibration(store, run_id=mixed_run)["judge"] == "llm:later"  # the latest judge by default
    result = calibration(store, judge="early", run_id=mixed_run)
    assert result["n"] == 12 and result["overall"]["kappa"] == pytest.approx(-1.0)
    assert result["trusted"] is False and result["warning"] == UNTRUSTED_JUDGE
    assert result["by_category"]["style"]["accuracy"] == 0.0


def test_calibration_names_unknown_scope_and_is_empty_without_a_judge(store, mixed_run):
    with pytest.raises(NotFound, match="No run 'run-nope'"):
        calibration(store, run_id="run-nope")
    with pytest.raises(NotFound, match="No dataset 'nope'"):
        calibration(store, dataset="nope")
    empty = calibration(store, run_id=mixed_run)
    assert empty["judge"] is None and empty["n"] == 0 and empty["overall"]["n"] == 0


def test_calibrate_with_the_embedded_judge(store, mixed_run):
    run = mixed_run
    ids = [s["id"] for s in store.list_samples(run_id=run)][:1]
    summary = asyncio.run(judge_samples(store, run_id=run, judge="local", calibrate=True, sample_ids=ids))
    assert summary["llm_samples"] == 1
    verdicts = {v["rule_id"]: v for v in store.verdicts(ids) if v["judge"] == "llm:local"}
    assert set(verdicts) == {"r1", "r2", "r3", "r4"}
    result = calibration(store, judge="local", run_id=run)
    usable = [v for r, v in verdicts.items() if r in ("r3", "r4") and v["verdict"] in ("pass", "fail")]
    assert result["judge"] == "llm:local" and result["n"] == len(usable)
    if len(usable) < 2:  # a reply that never parsed is stored as unknown with its raw output
        assert all(v["raw_output"] for v in verdicts.values() if v["verdict"] == "unknown")
    again = asyncio.run(judge_samples(store, run_id=run, judge="local", calibrate=True, sample_ids=ids))
    assert again["llm_samples"] == (0 if len(usable) == 2 else 1)
