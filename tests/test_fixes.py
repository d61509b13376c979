"""Mechanical fixers: each one makes its rule's checker pass, and combined fixes keep each other."""

import itertools
import random

import pytest

from rnr_core.rules import KINDS, build
from rnr_core.rules.conflicts import compatible
from rnr_core.rules.fixes import FIXERS, fix, fix_response

# Fails every fixable kind: capitals, commas, no quotes, title, postscript, bullets or end phrase.
PLAIN = (
    "Cats are independent, curious Pets. They sleep for most of the day. "
    "A healthy cat eats twice a day, drinks water and plays. Brushing keeps the coat clean. "
    "Vets advise a check-up every year. Older cats, like people, need gentle care."
)
INSTRUCTION = "Tell me how to look after a cat, please."

CASES = [
    ("change_case:english_lowercase", {}, PLAIN, None),
    ("change_case:english_capital", {}, PLAIN, None),
    ("startend:quotation", {}, PLAIN, None),
    ("startend:quotation", {}, "* one\n* two", '"\n* one\n* two"'),
    ("startend:end_checker", {"end_phrase": "Hope this helps."}, PLAIN, None),
    ("startend:end_checker", {"end_phrase": "Hope this helps."}, "Done. Hope this helps!", None),
    ("punctuation:no_comma", {}, "We sold 1,000 cups, then 2,500,000 more,and stopped.", None),
    ("detectable_format:title", {}, PLAIN, None),
    ("detectable_format:title", {}, "## Caring for cats\n\nFeed them.", "<<Caring for cats>>\n\nFeed them."),
    ("detectable_content:postscript", {"postscript_marker": "P.S."}, PLAIN, None),
    ("detectable_content:postscript", {"postscript_marker": "P.P.S"}, PLAIN, None),
    ("keywords:existence", {"keywords": ["summary", "balance"]}, PLAIN, None),
    ("keywords:existence", {"keywords": ["cats", "balance"]}, "Cats nap.", "Cats nap.\n\nKey word: balance."),
    ("detectable_format:number_bullet_lists", {"num_bullets": 3}, PLAIN, None),
    ("detectable_format:number_bullet_lists", {"num_bullets": 2}, "Intro.\n* a\n* b\n- c\nEnd.", None),
]


@pytest.mark.parametrize(
    "kind, kwargs, response, expected", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_each_fixer_makes_its_rule_pass(kind, kwargs, response, expected):
    rule = build(kind, kwargs)
    assert not rule.check(response)
    fixed = fix(rule, response, INSTRUCTION)
    assert rule.check(fixed), fixed
    if expected is not None:
        assert fixed == expected


def test_fixers_keep_the_words():
    """Fixes edit the form, not the content: every word of the original survives (case aside)."""
    for kind in ("punctuation:no_comma", "detectable_format:number_bullet_lists", "startend:quotation"):
        rule = build(kind, KINDS[kind].sample(random.Random(1)))
        fixed = fix(rule, PLAIN).lower()
        assert all(w.strip(",.") in fixed for w in PLAIN.lower().split())


def test_a_closing_sentence_with_other_punctuation_is_replaced_not_repeated():
    rule = build("startend:end_checker", {"end_phrase": "Hope this helps."})
    assert fix(rule, "Done. Hope this helps!") == "Done. Hope this helps."


def test_a_title_comes_from_the_instruction_or_else_the_response():
    rule = build("detectable_format:title")
    assert fix(rule, PLAIN, INSTRUCTION).startswith("<<Tell me how to look after a cat>>\n\n")
    assert fix(rule, PLAIN).startswith("<<Cats are independent, curious Pets>>\n\n")


def test_every_fixer_is_for_a_registered_kind():
    assert set(FIXERS) <= set(KINDS)
    assert len({f.name for f in FIXERS.values()}) == len(FIXERS)


def _rule(i: int, kind: str, seed: int) -> dict:
    return {"id": f"r{i}", "kind": kind, "kwargs": KINDS[kind].sample(random.Random(seed))}


PAIRS = [p for p in itertools.combinations(sorted(FIXERS), 2) if compatible(list(p))]


@pytest.mark.parametrize("pair", PAIRS, ids=["+".join(k.split(":")[1] for k in p) for p in PAIRS])
def test_compatible_pairs_are_fixed_together(pair):
    rules = [_rule(1, pair[0], 3), _rule(2, pair[1], 4)]
    text, fixes = fix_response(rules, PLAIN, INSTRUCTION)
    assert [build(r["kind"], r["kwargs"]).check(text) for r in rules] == [True, True], text
    assert sorted(f["rule_id"] for f in fixes) == ["r1", "r2"]
    assert {f["fixer"] for f in fixes} == {FIXERS[k].name for k in pair}


def test_many_rules_at_once_and_the_end_phrase_inside_the_quotes():
    kinds = ["startend:end_checker", "detectable_content:postscript", "startend:quotation"]
    rules = [_rule(i, k, i) for i, k in enumerate(kinds, 1)]
    rules += [
        {"id": "r4", "kind": "punctuation:no_comma", "kwargs": None},
        {"id": "r5", "kind": "change_case:english_lowercase", "kwargs": None},
    ]
    text, fixes = fix_response(rules, PLAIN)
    assert all(build(r["kind"], r["kwargs"]).check(text) for r in rules), text
    assert [f["fixer"] for f in fixes] == ["postscript", "end_phrase", "lowercase", "no_comma", "quotation"]


def test_an_end_phrase_already_said_moves_after_a_new_postscript_instead_of_repeating():
    phrase = "Is there anything else I can help with?"
    rules = [
        {"id": "r1", "kind": "startend:end_checker", "kwargs": {"end_phrase": phrase}},
        {"id": "r2", "kind": "detectable_content:postscript", "kwargs": {"postscript_marker": "P.S."}},
    ]
    text, fixes = fix_response(rules, f"Feed the cat. {phrase}")
    assert text.count(phrase) == 1 and text.endswith(phrase) and "\nP.S." in text
    assert {f["rule_id"] for f in fixes} == {"r1", "r2"}


def test_a_fix_that_would_break_a_passing_rule_is_not_made():
    rules = [
        {
            "id": "r1",
            "kind": "length_constraints:number_sentences",
            "kwargs": {"relation": "less than", "num_sentences": 7},
        },
        {"id": "r2", "kind": "detectable_content:postscript", "kwargs": {"postscript_marker": "P.S."}},
        {"id": "r3", "kind": "punctuation:no_comma", "kwargs": None},
    ]
    text, fixes = fix_response(rules, PLAIN)
    assert [f["rule_id"] for f in fixes] == ["r3"]
    assert "P.S." not in text and "," not in text


def test_a_response_that_passes_or_has_no_fixable_rule_is_returned_as_is():
    free = [{"id": "r1", "text": "Be kind.", "kind": None, "kwargs": None}]
    assert fix_response(free, PLAIN) == (PLAIN, [])
    lower = [{"id": "r1", "kind": "change_case:english_lowercase", "kwargs": None}]
    assert fix_response(lower, "all lower already.") == ("all lower already.", [])
    forbidden = [{"id": "r1", "kind": "keywords:forbidden_words", "kwargs": {"forbidden_words": ["cats"]}}]
    assert fix_response(forbidden, PLAIN) == (PLAIN, [])
