"""An evaluation with the real embedded model as candidate and judge, on two items."""

import asyncio

from rnr_core.evaluate.benchmark import freeze
from rnr_core.evaluate.run import run_eval
from rnr_core.rules.checking import CHECKER
from tests.test_evaluate import line, write_lines


def test_the_embedded_model_answers_and_is_judged(store, tmp_path, gguf_path):
    freeze(store, "two", file=write_lines(tmp_path / "two.jsonl", [line(1), line(2)]))
    report = asyncio.run(run_eval(store, "two", ["local"], judge="local", max_tokens=24))["reports"]["local"]
    assert (report["items"], report["answered"] + report["failed"]) == (2, 2)
    answers = store.eval_responses(report["eval_id"])
    assert all(a["status"] == "done" and a["response"].strip() for a in answers.values())
    verdicts = store.eval_verdicts(report["eval_id"])
    checker = [v for v in verdicts if v["judge"] == CHECKER]
    judged = [v for v in verdicts if v["judge"] == "llm:local"]
    assert len(checker) == 4 and {v["mode"] for v in checker} == {"strict", "loose"}
    assert len(judged) == 4 and {v["rule_id"] for v in judged} == {"r1", "r2"}  # all rules, one request each
    assert all(v["verdict"] in ("pass", "fail", "unknown") for v in judged)
    decided = report["pass_rate"]["n"] + report["unjudged"]
    assert decided == 2 and report["calibration"]["overall"]["n"] + report["calibration"]["skipped"] == 2
    judge_calls = [a for a in store.attempt_log(f"eval:{report['eval_id']}") if a["stage"] == "eval-judge"]
    assert {a["item_key"] for a in judge_calls} == set(answers)
