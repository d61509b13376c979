"""Evaluations with a scripted model (pipeline logic): failures kept and excluded, resume, retry, errors
before any call, the judge's verdicts and calibration, paired differences, the job kind."""

import asyncio
import json

import pytest

from rnr_core.errors import ModelCallError, ModelSpecError, NotFound
from rnr_core.evaluate.benchmark import freeze
from rnr_core.evaluate.report import eval_report, evals
from rnr_core.evaluate.run import ensure_responses, run_eval
from rnr_core.jobs import JobRunner
from rnr_core.store import Store
from tests.test_evaluate import line, write_lines


@pytest.fixture
def bench(tmp_path):
    """Three items, each with a lowercase rule (checked by code) and a politeness rule (free-form)."""
    with Store(str(tmp_path / "rnr.duckdb")) as store:
        freeze(store, "b", file=write_lines(tmp_path / "b.jsonl", [line(i) for i in range(3)]))
        yield store


def question(messages) -> str:
    return messages[-1]["content"]


def make_answer(answers: dict, judge: str = "pass"):
    """A scripted model: answers by question (default lowercase text); the judge gives `judge` (pass or
    fail) on every rule, or replies `judge` as it is when it is neither."""

    def answer(messages, params):
        if params.json_schema:
            ids = params.json_schema["required"]
            if judge not in ("pass", "fail"):
                return judge
            return json.dumps({r: {"verdict": judge, "rationale": "ok"} for r in ids})
        return answers.get(question(messages), "a polite lowercase answer.")

    return answer


def run(store, **kw):
    return asyncio.run(
        run_eval(store, "b", kw.pop("models", ["scripted"]), kw.pop("judge", "scripted"), **kw)
    )


def answer_calls(model) -> int:
    return sum(1 for _, p in model.requests if not p.json_schema)


def test_a_failing_item_is_excluded_counted_and_kept_with_its_raw_output(bench, scripted):
    model = scripted(make_answer({"Question 1?": "   "}))
    result = run(bench)
    report = result["reports"]["scripted"]
    assert (report["items"], report["answered"], report["failed"]) == (3, 2, 1)
    assert report["pass_rate"]["n"] == 2 and report["pass_rate"]["rate"] == 1.0  # never counted as a pass
    failure = report["failures"][0]
    assert failure["raw_output"] == "   " and "empty answer" in failure["error"]
    assert failure["attempts"] == 2  # asked again with a fresh seed before it counted as failed
    assert (
        answer_calls(model) == 4 and len(model.requests) - answer_calls(model) == 2
    )  # no judge on a failure
    stored = bench.eval_verdicts(report["eval_id"])
    assert {(v["judge"], v["mode"]) for v in stored} == {
        ("checker", "strict"),
        ("checker", "loose"),
        ("llm:scripted", ""),
    }
    assert evals(bench)[0] | {"answered": 2, "failed": 1, "status": "completed"} == evals(bench)[0]


def test_a_rerun_skips_done_items_and_retries_failed_ones(bench, scripted):
    scripted(make_answer({"Question 1?": ""}))
    run(bench)
    again = scripted(make_answer({}))
    report = run(bench)["reports"]["scripted"]
    assert answer_calls(again) == 1 and len(again.requests) == 2  # the failed item: its answer and judge
    assert (report["answered"], report["failed"], report["pass_rate"]["rate"]) == (3, 0, 1.0)
    later = scripted(make_answer({}))
    run(bench)
    assert later.requests == []  # everything done: nothing asked


def test_a_transient_failure_stops_saves_work_and_the_rerun_resumes(bench, scripted):
    down = ModelCallError("server unreachable", transient=True)

    def flaky(messages, params):
        return (
            down
            if question(messages) == "Question 2?" and not params.json_schema
            else make_answer({})(messages, params)
        )

    scripted(flaky)
    with pytest.raises(ModelCallError, match="server unreachable .*saved"):
        run(bench)
    row = evals(bench)[0]
    assert row["status"] == "failed" and row["answered"] + row["failed"] < 3 and row["failed"] == 0
    model = scripted(make_answer({}))
    report = run(bench)["reports"]["scripted"]
    assert answer_calls(model) == 3 - row["answered"]
    assert (report["answered"], report["failed"], report["status"]) == (3, 0, "completed")


def test_unknown_benchmark_or_spec_fails_before_any_call(bench, scripted):
    model = scripted(make_answer({}))
    with pytest.raises(NotFound, match="No benchmark 'nope' \\(known: b\\)"):
        asyncio.run(run_eval(bench, "nope", ["scripted"]))
    with pytest.raises(ModelSpecError, match="'nosuch'"):
        asyncio.run(run_eval(bench, "b", ["scripted", "nosuch"], judge="scripted"))
    with pytest.raises(ModelSpecError, match="'bad-judge'"):
        asyncio.run(run_eval(bench, "b", ["scripted"], judge="bad-judge"))
    with pytest.raises(ModelSpecError, match="'nosuch'"):
        asyncio.run(ensure_responses(bench, "b", "nosuch"))
    assert model.requests == [] and evals(bench) == []


def test_without_a_judge_free_form_rules_leave_items_unjudged(bench, scripted):
    scripted(make_answer({"Question 0?": "SHOUTING"}))
    report = run(bench, judge=None)["reports"]["scripted"]
    # Counting item 0 (broke its lowercase rule) as a fail while the others, unjudged, drop out would give
    # 0/1: the headline rate is over fully judged items only, and item 0 is counted on its own.
    assert report["pass_rate"]["n"] == 0 and report["unjudged"] == 3
    assert report["fails_checked_rule_unjudged"] == 1
    assert report["verifiable_pass_rate"]["rate"] == pytest.approx(2 / 3)
    assert report["ifeval"]["strict"]["prompt_level"]["n"] == 3
    assert report["calibration"] is None and report["judge_trusted"] is None
    assert (
        report["by_kind"]["change_case:english_lowercase"]["n"] == 3 and "free-form" not in report["by_kind"]
    )


def test_an_unparseable_judge_reply_is_unjudged_never_a_pass_and_retried(bench, scripted):
    scripted(make_answer({}, judge="not json"))
    report = run(bench)["reports"]["scripted"]
    assert report["unjudged"] == 3 and report["pass_rate"]["n"] == 0
    unknown = [v for v in bench.eval_verdicts(report["eval_id"], "llm:scripted")]
    assert {v["verdict"] for v in unknown} == {"unknown"} and "not JSON" in unknown[0]["rationale"]
    assert {v["raw_output"] for v in unknown} == {"not json"}  # the reply itself is kept
    assert report["judge_failures"] == 3 and len(report["judge_errors"]) == 3
    assert (
        report["judge_errors"][0]["raw_output"] == "not json"
        and "not JSON" in report["judge_errors"][0]["error"]
    )
    judge = scripted(make_answer({}))
    report = run(bench)["reports"]["scripted"]
    assert answer_calls(judge) == 0 and len(judge.requests) == 3  # only the judge, again
    assert report["pass_rate"]["rate"] == 1.0 and report["unjudged"] == 0
    assert (report["judge_failures"], report["judge_errors"]) == (0, [])


def test_the_judge_is_calibrated_against_the_checkers(bench, scripted):
    scripted(make_answer({"Question 0?": "SHOUTING", "Question 1?": "LOUD"}, judge="pass"))
    report = run(bench)["reports"]["scripted"]
    calibration = report["calibration"]
    assert calibration["overall"]["n"] == 3 and calibration["overall"]["accuracy"] == pytest.approx(1 / 3)
    assert report["pass_rate"]["rate"] == pytest.approx(1 / 3)  # the checker decides verifiable rules
    assert report["by_category"]["style"]["n"] == 6  # lowercase (checker) and politeness (judge)


def test_two_models_get_a_paired_difference_and_share_nothing(bench, scripted):
    scripted(make_answer({"Question 0?": "LOUD"}), spec="scripted")
    scripted(make_answer({}), spec="scripted-b")
    result = run(bench, models=["scripted", "scripted-b"])
    (diff,) = result["differences"]
    assert (diff["model_a"], diff["model_b"], diff["n"]) == ("scripted", "scripted-b", 3)
    assert diff["diff"] == pytest.approx(-1 / 3) and diff["b_only"] == 1 and diff["mcnemar_p"] == 1.0
    assert eval_report(bench, "b", "scripted-b")["pass_rate"]["rate"] == 1.0
    assert len({r["id"] for r in evals(bench)}) == 2


def test_ensure_responses_reuses_the_evaluations_answers(bench, scripted):
    scripted(make_answer({"Question 2?": ""}))
    run(bench)
    model = scripted(make_answer({"Question 2?": ""}))
    answers = asyncio.run(ensure_responses(bench, "b", "scripted"))
    assert list(answers.values()) == ["a polite lowercase answer."] * 2 + [None]
    assert answer_calls(model) == 2  # only the failed item is asked again (twice: a fresh seed)


def test_eval_runs_as_a_job(bench, scripted):
    scripted(make_answer({}))
    runner = JobRunner(bench)
    job = runner.wait(runner.start("eval", benchmark="b", models=["scripted"], judge="scripted"), timeout=60)
    assert job["status"] == "completed", job["error"]
    assert job["result"]["reports"]["scripted"]["pass_rate"]["rate"] == 1.0
    assert job["progress"]["done"] == job["progress"]["total"] == 3


def test_differences_pair_only_items_fully_judged_for_both_models(bench, scripted):
    def judge_fails_on_loud(messages, params):
        if params.json_schema and any("LOUD" in m["content"] for m in messages):
            return "not json"
        return make_answer({"Question 0?": "LOUD"})(messages, params)

    scripted(judge_fails_on_loud, spec="scripted")
    scripted(make_answer({}), spec="scripted-b")
    result = run(bench, models=["scripted", "scripted-b"])
    report = result["reports"]["scripted"]
    assert (report["unjudged"], report["fails_checked_rule_unjudged"]) == (1, 1)
    assert (report["pass_rate"]["n"], report["pass_rate"]["rate"]) == (2, 1.0)
    (diff,) = result["differences"]
    assert (diff["n"], diff["diff"]) == (2, 0.0)  # item 0 has no full verdict for scripted: left out


def test_the_report_says_when_the_pass_rate_rests_on_an_uncalibrated_or_untrusted_judge(
    bench, tmp_path, scripted
):
    scripted(make_answer({}, judge="pass"))
    report = run(bench)["reports"]["scripted"]
    # three checkable verdicts are too few to measure the judge: its trust is unknown, and said so
    assert report["calibration"]["overall"]["n"] == 3 and report["judge_trusted"] is None
    assert (report["rests_on_uncalibrated_judge"], report["rests_on_untrusted_judge"]) == (True, False)
    assert run(bench, judge=None)["reports"]["scripted"]["rests_on_uncalibrated_judge"] is False  # no judge

    freeze(bench, "b10", file=write_lines(tmp_path / "b10.jsonl", [line(i) for i in range(10)]))
    # a contrarian judge (another spec: the call cache holds the first one's replies) fails everything
    scripted(make_answer({f"Question {i}?": "LOUD" for i in range(5)}, judge="fail"), spec="contrarian")
    report = asyncio.run(run_eval(bench, "b10", ["contrarian"], "contrarian"))["reports"]["contrarian"]
    calibration = report["calibration"]
    assert calibration["overall"]["n"] == 10 and calibration["overall"]["kappa"] == 0.0
    assert report["judge_trusted"] is False and calibration["untrusted_categories"] == ["style"]
    assert (report["rests_on_untrusted_judge"], report["rests_on_uncalibrated_judge"]) == (True, False)
    low, high = calibration["by_category"]["style"]["kappa_ci95"]
    assert low <= calibration["by_category"]["style"]["kappa"] <= high


def test_migration_13_keeps_a_store_evaluated_before_it(tmp_path, monkeypatch, scripted):
    from rnr_core.store import db, migrations

    path = str(tmp_path / "old.duckdb")
    monkeypatch.setattr(db, "MIGRATIONS", [m for m in migrations.MIGRATIONS if m[0] <= 12])
    with Store(path) as old:
        freeze(old, "b", file=write_lines(tmp_path / "b.jsonl", [line(0)]))
        old.con.execute(
            "INSERT INTO eval_verdicts (eval_id, item_key, rule_id, judge, mode, verdict, rationale) "
            "VALUES ('e1', 'k', 'r2', 'llm:scripted', '', 'unknown', 'judge reply is not JSON')"
        )
    monkeypatch.undo()
    with Store(path) as store:
        assert store.schema_version() == max(m[0] for m in migrations.MIGRATIONS) >= 13
        (verdict,) = store.eval_verdicts("e1")
        assert verdict["raw_output"] is None and verdict["rationale"] == "judge reply is not JSON"
