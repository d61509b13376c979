"""The pairwise judge: its prompt, the reply parser and how the two orders combine into one vote."""

import json

import pytest

from rnr_core.errors import InvalidOutput
from rnr_core.judge.pairwise import TEMPLATE, combine, parse_reply, reply_schema, request_messages

RULES = [
    {"id": "r1", "text": "Answer in French.", "kind": None, "kwargs": {}, "category": "language"},
    {
        "id": "r2",
        "text": "Use no commas.",
        "kind": "punctuation:no_comma",
        "kwargs": {},
        "category": "format",
    },
]


def test_request_shows_the_system_prompt_rules_turns_and_both_replies_in_order():
    turns = [{"role": "user", "content": "Name a colour."}]
    [message] = request_messages("You are a painter.", turns, RULES, "Bleu $x {y}", "Red")
    text = message["content"]
    assert message["role"] == "user" and TEMPLATE.id == "pairwise.v1"
    assert "You are a painter." in text and "[user] Name a colour." in text
    assert "- Answer in French.\n- Use no commas." in text
    assert text.index("Reply A:\n<<<\nBleu $x {y}\n>>>") < text.index("Reply B:\n<<<\nRed\n>>>")
    assert "(none beyond the system prompt)" in request_messages("S", turns, [], "a", "b")[0]["content"]


@pytest.mark.parametrize(
    "raw, expected",
    [
        (
            '{"winner": "A", "reason": "A follows both rules. "}',
            {"winner": "A", "reason": "A follows both rules."},
        ),
        (
            '{"winner": "tie", "reason": "Both break the comma rule."}',
            {"winner": "tie", "reason": "Both break the comma rule."},
        ),
        ('{"winner": "B", "reason": ""}', {"winner": "B", "reason": ""}),
    ],
)
def test_good_replies_parse(raw, expected):
    assert parse_reply(raw) == expected


@pytest.mark.parametrize(
    "raw, message",
    [
        ("A is better.", "not JSON"),
        ("", "not JSON"),
        ('{"winner": "C", "reason": "x"}', "'C' is not one of"),
        ('{"winner": "a", "reason": "x"}', "'a' is not one of"),
        ('{"winner": "both", "reason": "x"}', "is not one of"),
        ('{"winner": "A"}', "'reason' is a required property"),
        ('{"winner": "A", "reason": "x", "score": 3}', "Additional properties"),
        ('{"winner": "A", "reason": "' + "x" * 301 + '"}', "is too long"),
        ('["A", "why"]', "is not of type 'object'"),
    ],
)
def test_bad_replies_raise_invalid_output_with_the_raw_text(raw, message):
    with pytest.raises(InvalidOutput, match=message) as info:
        parse_reply(raw)
    assert info.value.raw == raw


def test_the_schema_bounds_what_a_model_may_write():
    schema = reply_schema()
    assert schema["properties"]["winner"]["enum"] == ["A", "B", "tie"]
    assert schema["properties"]["reason"]["maxLength"] == 300
    assert json.loads(json.dumps(schema)) == schema


@pytest.mark.parametrize(
    "ab, ba, vote",
    [
        ("A", "B", "a"),  # a first and picked, then b first and a picked: a both times
        ("B", "A", "b"),
        ("tie", "tie", "tie"),
        ("A", "A", "tie"),  # each order picks the reply shown first: position, not preference
        ("B", "B", "tie"),
        ("A", "tie", "tie"),
        ("tie", "B", "tie"),
        ("tie", "A", "tie"),
        ("B", "tie", "tie"),
    ],
)
def test_combine_keeps_only_a_preference_that_survives_swapping_sides(ab, ba, vote):
    assert combine(ab, ba) == vote


def test_combine_refuses_anything_but_a_verdict():
    with pytest.raises(ValueError, match="ba verdict must be one of A, B, tie, got 'a'"):
        combine("A", "a")
