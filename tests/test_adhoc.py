"""The live demo's core: typed rules, contestants streamed at once, the LLM judge on free-form rules."""

import asyncio

import pytest

from rnr_core.errors import ModelCallError, SettingError
from rnr_core.evaluate.adhoc import (
    MAX_RULES,
    Contestant,
    adhoc_item,
    judge_adhoc,
    label,
    rules_from_text,
    stream_answers,
)

RULES = "Answer in English.\n\n  Mention Egypt.  \n"


def test_rules_are_one_per_line_free_form_and_numbered():
    rules = rules_from_text(RULES)
    assert [(r["id"], r["text"], r["kind"]) for r in rules] == [
        ("r1", "Answer in English.", None),
        ("r2", "Mention Egypt.", None),
    ]
    with pytest.raises(SettingError, match=f"at most {MAX_RULES}"):
        rules_from_text("\n".join(f"rule {i}" for i in range(MAX_RULES + 1)))


def test_an_item_needs_a_user_turn_and_its_key_is_its_content():
    with pytest.raises(SettingError, match="user turn"):
        adhoc_item("You are kind.", "   ", [])
    a, b = adhoc_item("You are kind.", "Hi", []), adhoc_item(" You are kind.", "Hi ", rules_from_text(RULES))
    assert a["item_key"] == b["item_key"]
    assert a["item_key"] != adhoc_item("You are terse.", "Hi", [])["item_key"]


@pytest.mark.parametrize(
    ("shown", "t", "with_setting", "expected"),
    [("local", 0.0, False, "local"), ("local", 0.9, True, "local · t=0.9"), ("gpt", 1.0, True, "gpt · t=1")],
)
def test_labels_show_the_setting_where_asked(shown, t, with_setting, expected):
    assert label(shown, t, with_setting) == expected


def test_every_contestant_streams_at_once_and_a_failing_one_yields_its_error(scripted):
    scripted(lambda m, p: f"t={p.temperature:g} says {m[-1]['content']}", "one")
    scripted(lambda m, p: ModelCallError("the server is down"), "two")
    item = adhoc_item("", "hello", [])
    contestants = [Contestant("one", 0.3), Contestant("two"), Contestant("one", 0.9)]

    async def collect():
        return [x async for x in stream_answers(contestants, item, 16)]

    got = asyncio.run(collect())
    texts = {i: c for i, c in got if isinstance(c, str)}
    assert texts == {0: "t=0.3 says hello", 2: "t=0.9 says hello"}
    (error,) = [c for i, c in got if i == 1]
    assert isinstance(error, ModelCallError) and "down" in str(error)


def test_the_judge_rules_on_every_rule_in_one_request(store, scripted):
    judge = scripted(
        lambda m, p: (
            '{"r1": {"verdict": "pass", "rationale": "English"}, '
            '"r2": {"verdict": "fail", "rationale": "no Egypt"}}'
        )
    )
    item = adhoc_item("You are a guide.", "Why pyramids?", rules_from_text(RULES))
    verdicts = asyncio.run(judge_adhoc(store, "scripted", item, "Because kings wanted tombs."))
    assert [(v["rule_id"], v["verdict"]) for v in verdicts] == [("r1", "pass"), ("r2", "fail")]
    assert len(judge.requests) == 1 and "Mention Egypt." in judge.requests[0][0][0]["content"]


def test_a_judge_that_never_parses_gives_unknown_verdicts_with_its_raw_output(store, scripted):
    judge = scripted(lambda m, p: "I think it is fine")
    item = adhoc_item("", "Why pyramids?", rules_from_text(RULES))
    verdicts = asyncio.run(judge_adhoc(store, "scripted", item, "Tombs.", max_retries=1))
    assert {v["verdict"] for v in verdicts} == {"unknown"}
    assert all(v["raw_output"] == "I think it is fine" and "not JSON" in v["rationale"] for v in verdicts)
    assert len(judge.requests) == 2  # the first try and one retry, each logged
    assert asyncio.run(judge_adhoc(store, "scripted", adhoc_item("", "Hi", []), "Hello")) == []


def test_all_answers_are_judged_at_once_and_one_failure_leaves_the_others_judged(
    store, scripted, monkeypatch
):
    from rnr_core.evaluate import adhoc

    scripted(
        lambda m, p: (
            '{"r1": {"verdict": "pass", "rationale": "ok"}, "r2": {"verdict": "pass", "rationale": "ok"}}'
        )
    )
    real = adhoc.judge_adhoc

    async def judge_adhoc(store, judge, item, response, max_retries=2):
        if response == "broken":
            raise ModelCallError("the judge's server is down")
        return await real(store, judge, item, response, max_retries)

    monkeypatch.setattr(adhoc, "judge_adhoc", judge_adhoc)
    item = adhoc_item("", "Why pyramids?", rules_from_text(RULES))
    got = asyncio.run(adhoc.judge_all(store, "scripted", item, {0: "Tombs.", 1: "broken", 2: "Kings."}))
    assert [v["verdict"] for v in got[0]] == [v["verdict"] for v in got[2]] == ["pass", "pass"]
    assert isinstance(got[1], ModelCallError) and "down" in str(got[1])
