"""The Compare page's core summary: judge warnings per (model, judge), one read per model that agrees with
eval_report, the display names of team models, and the wording of kappa and intervals."""

import asyncio
import json

import pytest

from rnr_core import access
from rnr_core.evaluate import summary, words
from rnr_core.evaluate.benchmark import freeze
from rnr_core.evaluate.report import eval_report
from rnr_core.evaluate.run import run_eval
from rnr_core.models import names
from tests.oidc import NO_SERVER, write_team_config

UNTRUSTED = "This judge disagrees with code on checkable rules; don't trust it on free-form ones."


def report(judge: str, warning: str | None, kappa: float | None, rests: bool) -> dict:
    cal = {"warning": warning, "overall": {"kappa": kappa}}
    return {"judge": judge, "calibration": cal, "rests_on_untrusted_judge": rests}


def test_judge_warnings_are_per_model_and_judge_and_name_the_judge():
    lines = summary.judge_warnings(
        {
            "a": report("llm:small", UNTRUSTED, 0.21, True),
            "b": report("llm:small", None, 0.8, False),  # the same judge, trusted on b's answers
            "c": report("llm:big", UNTRUSTED, None, False),
        }
    )
    assert len(lines) == 2
    assert lines[0].startswith("llm:small on a's answers: kappa 0.21 against the checkers.")
    assert "The pass rate of a rests on this judge's free-form verdicts" in lines[0]
    assert lines[1].startswith("llm:big on c's answers: kappa undefined") and "rests" not in lines[1]


def test_kappa_and_interval_wording():
    assert words.kappa({"kappa": 0.614}) == "0.61" and words.kappa({"kappa": None}) == "undefined"
    assert words.interval([0.1, 0.25]) == "0.10 to 0.25" and words.interval(None) == "–"
    assert words.interval([-0.05, 0.125], signed=True) == "-0.050 to +0.125"
    assert words.interval([0.25, 1.0], percent=True) == "25% to 100%"


def test_the_summary_reads_each_model_once_and_agrees_with_eval_report(store, scripted, tmp_path):
    scripted(lambda m, p: "No commas here", "terse")
    scripted(lambda m, p: "Well, commas", "chatty")
    items = [
        {
            "messages": [{"role": "user", "content": f"Tell me about {i}."}],
            "rules": [{"id": "1", "text": "Do not use any commas.", "kind": "punctuation:no_comma"}],
        }
        for i in range(3)
    ]
    path = tmp_path / "b.jsonl"
    path.write_text("".join(json.dumps(i) + "\n" for i in items))
    freeze(store, "b", file=str(path))
    asyncio.run(run_eval(store, "b", ["terse", "chatty"], judge=None, max_tokens=16))
    got = summary.benchmark_summary(store, "b")
    assert set(got["models"]) == {"terse", "chatty"} and got["names"] == {
        "terse": "terse",
        "chatty": "chatty",
    }
    for model in got["models"]:
        assert got["reports"][model]["pass_rate"] == eval_report(store, "b", model)["pass_rate"]
    (diff,) = got["differences"]
    assert abs(diff["diff"]) == 1.0 and diff["n"] == 3
    token = store.compare_token()
    assert store.compare_token() == token
    store.add_vote(
        {
            "benchmark_id": None,
            "item_key": "k",
            "model_a": "terse",
            "model_b": "chatty",
            "winner": "a",
            "voter": "ada",
            "voter_kind": "human",
            "blind": True,
            "status": "ok",
        }
    )
    assert store.compare_token() != token  # a vote invalidates the cached summary


@pytest.fixture
def team_mode(tmp_path, monkeypatch):
    path = write_team_config(
        tmp_path / "c.toml", {"a@example.com": "viewer"}, [{**NO_SERVER, "name": "small"}]
    )
    monkeypatch.setenv("RNR_CONFIG", str(path))
    access.reload()
    yield
    monkeypatch.delenv("RNR_CONFIG")
    access.reload()


def test_team_specs_show_by_name_and_other_addresses_are_hidden(team_mode):
    spec = "openai:smollm2@http://127.0.0.1:9/v1"
    assert names.team_names() == {spec: "small"}
    assert names.shown(spec) == "small" and names.shown(f"llm:{spec} on x") == "llm:small on x"
    assert names.shown("openai:old@http://10.0.0.5:8000/v1") == "openai:old@(endpoint hidden)"


def test_personal_mode_shows_specs_as_they_are():
    assert names.team_names() == {} and names.shown("openai:m@http://localhost:8000/v1").endswith("8000/v1")


def test_an_uncalibrated_judge_and_untrusted_categories_are_named():
    uncalibrated = {"judge": "llm:small", "calibration": None, "rests_on_uncalibrated_judge": True}
    split = report("llm:big", None, 0.7, False)
    split["calibration"]["untrusted_categories"] = ["tone", "format"]
    lines = summary.judge_warnings({"a": uncalibrated, "b": split})
    assert lines[0].startswith("The pass rate of a rests on free-form verdicts of llm:small")
    assert lines[1] == "llm:big on b's answers: kappa 0.70 against the checkers. Untrusted on: tone, format."
