"""The verifiable rule kinds: each checker against IFEval's semantics, kwarg validation,
strict/loose verdicts and the conflict table."""

import random

import pytest

from rnr_core.errors import RuleError
from rnr_core.rules import KINDS, build, checker_of
from rnr_core.rules.conflicts import CONFLICTS, compatible
from rnr_core.rules.evaluate import follows, loose_variants
from rnr_core.rules.style import LANGUAGES

IFEVAL_KINDS = {
    "keywords:existence",
    "keywords:frequency",
    "keywords:forbidden_words",
    "keywords:letter_frequency",
    "language:response_language",
    "length_constraints:number_sentences",
    "length_constraints:number_paragraphs",
    "length_constraints:number_words",
    "length_constraints:nth_paragraph_first_word",
    "detectable_content:number_placeholders",
    "detectable_content:postscript",
    "detectable_format:number_bullet_lists",
    "detectable_format:constrained_response",
    "detectable_format:number_highlighted_sections",
    "detectable_format:multiple_sections",
    "detectable_format:json_format",
    "detectable_format:title",
    "combination:two_responses",
    "combination:repeat_prompt",
    "startend:end_checker",
    "startend:quotation",
    "change_case:capital_word_frequency",
    "change_case:english_capital",
    "change_case:english_lowercase",
    "punctuation:no_comma",
}

LESS, AT_LEAST = "less than", "at least"


def check(kind: str, response: str, **kwargs) -> bool:
    return build(kind, kwargs).check(response)


def test_registry_holds_exactly_the_25_ifeval_kinds():
    assert set(KINDS) == IFEVAL_KINDS


# ---- per-kind verdicts ------------------------------------------------------------------------
# (kind, kwargs, response, expected); the id says what each case pins down.

THREE_PARAGRAPHS = "Intro line here.\n\nSecond paragraph starts here.\n\nThird one closes."

CASES = [
    # keywords:existence: every keyword, case-insensitive, as a substring.
    pytest.param(
        "keywords:existence",
        {"keywords": ["apple", "Banana"]},
        "I like APPLE and banana.",
        True,
        id="existence-all-present-any-case",
    ),
    pytest.param(
        "keywords:existence",
        {"keywords": ["apple", "banana"]},
        "I like apples only.",
        False,
        id="existence-one-missing",
    ),
    pytest.param(
        "keywords:existence",
        {"keywords": ["cat"]},
        "Let us concatenate strings.",
        True,
        id="existence-substring-counts",
    ),
    pytest.param(
        "keywords:existence",
        {"keywords": ["C++"]},
        "I write c++ daily.",
        True,
        id="existence-regex-characters-are-literal",
    ),
    pytest.param(
        "keywords:existence", {"keywords": ["a.b"]}, "axb", False, id="existence-dot-is-not-a-wildcard"
    ),
    # keywords:frequency: case-insensitive count; boundaries at count == n.
    pytest.param(
        "keywords:frequency",
        {"keyword": "the", "frequency": 3, "relation": AT_LEAST},
        "The cat and the dog saw THE bird.",
        True,
        id="frequency-at-least-equal",
    ),
    pytest.param(
        "keywords:frequency",
        {"keyword": "the", "frequency": 3, "relation": LESS},
        "The cat and the dog saw THE bird.",
        False,
        id="frequency-less-than-equal",
    ),
    pytest.param(
        "keywords:frequency",
        {"keyword": "the", "frequency": 4, "relation": LESS},
        "The cat and the dog saw THE bird.",
        True,
        id="frequency-less-than-below",
    ),
    pytest.param(
        "keywords:frequency",
        {"keyword": "the", "frequency": 4, "relation": AT_LEAST},
        "The cat and the dog saw THE bird.",
        False,
        id="frequency-at-least-below",
    ),
    pytest.param(
        "keywords:frequency",
        {"keyword": "cat", "frequency": 2, "relation": AT_LEAST},
        "concatenate the cat",
        True,
        id="frequency-counts-substrings",
    ),
    pytest.param(
        "keywords:frequency",
        {"keyword": "dog", "frequency": 1, "relation": LESS},
        "No canines here.",
        True,
        id="frequency-zero-occurrences-less-than-one",
    ),
    # keywords:forbidden_words: whole words only, case-insensitive.
    pytest.param(
        "keywords:forbidden_words",
        {"forbidden_words": ["very"]},
        "This is very good.",
        False,
        id="forbidden-present",
    ),
    pytest.param(
        "keywords:forbidden_words",
        {"forbidden_words": ["very"]},
        "VERY nice.",
        False,
        id="forbidden-case-insensitive",
    ),
    pytest.param(
        "keywords:forbidden_words",
        {"forbidden_words": ["very"]},
        "Everything is every bit fine.",
        True,
        id="forbidden-inside-longer-word-allowed",
    ),
    pytest.param(
        "keywords:forbidden_words",
        {"forbidden_words": ["very"]},
        "It was, very.",
        False,
        id="forbidden-next-to-punctuation",
    ),
    pytest.param(
        "keywords:forbidden_words",
        {"forbidden_words": ["rock", "ice cream"]},
        "I love ice cream.",
        False,
        id="forbidden-multiword",
    ),
    pytest.param(
        "keywords:forbidden_words",
        {"forbidden_words": ["rock", "paper"]},
        "Scissors win today.",
        True,
        id="forbidden-none-present",
    ),
    # keywords:letter_frequency: count in the lower-cased response.
    pytest.param(
        "keywords:letter_frequency",
        {"letter": "a", "let_frequency": 3, "let_relation": AT_LEAST},
        "BanAnA",
        True,
        id="letter-at-least-equal-mixed-case",
    ),
    pytest.param(
        "keywords:letter_frequency",
        {"letter": "a", "let_frequency": 3, "let_relation": LESS},
        "BanAnA",
        False,
        id="letter-less-than-equal",
    ),
    pytest.param(
        "keywords:letter_frequency",
        {"letter": "a", "let_frequency": 4, "let_relation": LESS},
        "BanAnA",
        True,
        id="letter-less-than-below",
    ),
    pytest.param(
        "keywords:letter_frequency",
        {"letter": "a", "let_frequency": 4, "let_relation": AT_LEAST},
        "BanAnA",
        False,
        id="letter-at-least-below",
    ),
    pytest.param(
        "keywords:letter_frequency",
        {"letter": "A", "let_frequency": 3, "let_relation": AT_LEAST},
        "aaa",
        True,
        id="letter-kwarg-upper-case-counts-lower-case",
    ),
    pytest.param(
        "keywords:letter_frequency",
        {"letter": "#", "let_frequency": 2, "let_relation": AT_LEAST},
        "#one and #two",
        True,
        id="letter-non-letter-character",
    ),
    pytest.param(
        "keywords:letter_frequency",
        {"letter": "#", "let_frequency": 2, "let_relation": LESS},
        "#one and #two",
        False,
        id="letter-non-letter-less-than-equal",
    ),
    # language:response_language.
    pytest.param(
        "language:response_language",
        {"language": "fr"},
        "Le chat est sur la table et il dort tranquillement.",
        True,
        id="language-french",
    ),
    pytest.param(
        "language:response_language",
        {"language": "de"},
        "Le chat est sur la table et il dort tranquillement.",
        False,
        id="language-wrong",
    ),
    pytest.param(
        "language:response_language",
        {"language": "en"},
        "The weather is lovely today and we are going for a walk.",
        True,
        id="language-english",
    ),
    pytest.param(
        "language:response_language",
        {"language": "es"},
        "12345 !!! 678",
        True,
        id="language-detection-fails-counts-as-followed",
    ),
    # length_constraints:number_sentences.
    pytest.param(
        "length_constraints:number_sentences",
        {"num_sentences": 3, "relation": AT_LEAST},
        "One. Two. Three.",
        True,
        id="sentences-at-least-equal",
    ),
    pytest.param(
        "length_constraints:number_sentences",
        {"num_sentences": 3, "relation": LESS},
        "One. Two. Three.",
        False,
        id="sentences-less-than-equal",
    ),
    pytest.param(
        "length_constraints:number_sentences",
        {"num_sentences": 4, "relation": LESS},
        "One. Two. Three.",
        True,
        id="sentences-less-than-below",
    ),
    pytest.param(
        "length_constraints:number_sentences",
        {"num_sentences": 4, "relation": AT_LEAST},
        "One. Two. Three.",
        False,
        id="sentences-at-least-below",
    ),
    pytest.param(
        "length_constraints:number_sentences",
        {"num_sentences": 3, "relation": LESS},
        "Dr. Smith went home. He slept.",
        True,
        id="sentences-abbreviation-does-not-split",
    ),
    pytest.param(
        "length_constraints:number_sentences",
        {"num_sentences": 4, "relation": AT_LEAST},
        "Is it? Yes! Really. Fine.",
        True,
        id="sentences-question-and-exclamation-marks",
    ),
    # length_constraints:number_paragraphs: *** dividers.
    pytest.param(
        "length_constraints:number_paragraphs",
        {"num_paragraphs": 3},
        "A\n***\nB\n***\nC",
        True,
        id="paragraphs-exact",
    ),
    pytest.param(
        "length_constraints:number_paragraphs",
        {"num_paragraphs": 2},
        "A\n***\nB\n***\nC",
        False,
        id="paragraphs-too-many",
    ),
    pytest.param(
        "length_constraints:number_paragraphs",
        {"num_paragraphs": 4},
        "A\n***\nB\n***\nC",
        False,
        id="paragraphs-too-few",
    ),
    pytest.param(
        "length_constraints:number_paragraphs",
        {"num_paragraphs": 2},
        "A***B",
        True,
        id="paragraphs-divider-without-whitespace",
    ),
    pytest.param(
        "length_constraints:number_paragraphs",
        {"num_paragraphs": 2},
        "***\nA\n***\nB\n***",
        True,
        id="paragraphs-empty-first-and-last-ignored",
    ),
    pytest.param(
        "length_constraints:number_paragraphs",
        {"num_paragraphs": 2},
        "A\n***\n\n***\nB",
        False,
        id="paragraphs-empty-middle-fails-2",
    ),
    pytest.param(
        "length_constraints:number_paragraphs",
        {"num_paragraphs": 3},
        "A\n***\n\n***\nB",
        False,
        id="paragraphs-empty-middle-fails-3",
    ),
    pytest.param(
        "length_constraints:number_paragraphs",
        {"num_paragraphs": 1},
        "A\n\nB\n* * *\nC",
        True,
        id="paragraphs-blank-lines-and-spaced-stars-are-not-dividers",
    ),
    # length_constraints:number_words: runs of \w+.
    pytest.param(
        "length_constraints:number_words",
        {"num_words": 5, "relation": AT_LEAST},
        "Hello, world! It's 2024.",
        True,
        id="words-at-least-equal",
    ),
    pytest.param(
        "length_constraints:number_words",
        {"num_words": 5, "relation": LESS},
        "Hello, world! It's 2024.",
        False,
        id="words-less-than-equal",
    ),
    pytest.param(
        "length_constraints:number_words",
        {"num_words": 6, "relation": LESS},
        "Hello, world! It's 2024.",
        True,
        id="words-less-than-below",
    ),
    pytest.param(
        "length_constraints:number_words",
        {"num_words": 6, "relation": AT_LEAST},
        "Hello, world! It's 2024.",
        False,
        id="words-at-least-below",
    ),
    pytest.param(
        "length_constraints:number_words",
        {"num_words": 4, "relation": AT_LEAST},
        "state-of-the-art",
        True,
        id="words-hyphens-split-words",
    ),
    pytest.param(
        "length_constraints:number_words",
        {"num_words": 2, "relation": LESS},
        "snake_case",
        True,
        id="words-underscore-joins-words",
    ),
    # length_constraints:nth_paragraph_first_word: "\n\n" paragraphs.
    pytest.param(
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 3, "nth_paragraph": 2, "first_word": "second"},
        THREE_PARAGRAPHS,
        True,
        id="nth-second-paragraph",
    ),
    pytest.param(
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 3, "nth_paragraph": 2, "first_word": "Second"},
        THREE_PARAGRAPHS,
        True,
        id="nth-first-word-kwarg-case-ignored",
    ),
    pytest.param(
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 3, "nth_paragraph": 3, "first_word": "third"},
        THREE_PARAGRAPHS,
        True,
        id="nth-last-paragraph",
    ),
    pytest.param(
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 3, "nth_paragraph": 2, "first_word": "third"},
        THREE_PARAGRAPHS,
        False,
        id="nth-wrong-word",
    ),
    pytest.param(
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "second"},
        THREE_PARAGRAPHS,
        False,
        id="nth-count-must-match",
    ),
    pytest.param(
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 4, "nth_paragraph": 2, "first_word": "second"},
        THREE_PARAGRAPHS,
        False,
        id="nth-count-too-high",
    ),
    pytest.param(
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 3, "nth_paragraph": 4, "first_word": "third"},
        THREE_PARAGRAPHS,
        False,
        id="nth-beyond-last-paragraph",
    ),
    pytest.param(
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "hello"},
        'Opening.\n\n"Hello," she said.',
        True,
        id="nth-leading-quote-and-comma-removed",
    ),
    pytest.param(
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 2, "nth_paragraph": 1, "first_word": "wait"},
        "Wait! Stop.\n\nNext.",
        True,
        id="nth-cut-at-exclamation",
    ),
    pytest.param(
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 2, "nth_paragraph": 1, "first_word": "it"},
        "It's fine.\n\nNext.",
        True,
        id="nth-cut-at-apostrophe",
    ),
    pytest.param(
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 2, "nth_paragraph": 1, "first_word": "summary"},
        "Summary: all good.\n\nNext.",
        False,
        id="nth-colon-is-not-cut",
    ),
    pytest.param(
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 2, "nth_paragraph": 1, "first_word": "alpha"},
        "Alpha text.\n\n\n\nBeta text.",
        True,
        id="nth-empty-paragraphs-not-counted",
    ),
    pytest.param(
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 1, "nth_paragraph": 1, "first_word": "alpha"},
        "Alpha text.\nBeta on the next line.",
        True,
        id="nth-single-newline-does-not-split",
    ),
    # detectable_content:number_placeholders: at least n non-greedy [...] spans.
    pytest.param(
        "detectable_content:number_placeholders",
        {"num_placeholders": 2},
        "Dear [name], I live at [address].",
        True,
        id="placeholders-equal",
    ),
    pytest.param(
        "detectable_content:number_placeholders",
        {"num_placeholders": 3},
        "Dear [name], I live at [address].",
        False,
        id="placeholders-too-few",
    ),
    pytest.param(
        "detectable_content:number_placeholders",
        {"num_placeholders": 1},
        "Dear [name], I live at [address].",
        True,
        id="placeholders-more-is-fine",
    ),
    pytest.param(
        "detectable_content:number_placeholders",
        {"num_placeholders": 2},
        "[a] and [b]",
        True,
        id="placeholders-non-greedy",
    ),
    pytest.param(
        "detectable_content:number_placeholders",
        {"num_placeholders": 1},
        "No brackets here (none).",
        False,
        id="placeholders-none",
    ),
    # detectable_content:postscript.
    pytest.param(
        "detectable_content:postscript",
        {"postscript_marker": "P.S."},
        "Hello.\nP.S. Bye.",
        True,
        id="postscript-ps",
    ),
    pytest.param(
        "detectable_content:postscript",
        {"postscript_marker": "P.S."},
        "Hello.\n   p.s. bye.",
        True,
        id="postscript-indented-lower-case",
    ),
    pytest.param(
        "detectable_content:postscript",
        {"postscript_marker": "P.S."},
        "Hello.\nP. S. Bye.",
        True,
        id="postscript-ps-space-after-dot",
    ),
    pytest.param(
        "detectable_content:postscript",
        {"postscript_marker": "P.S."},
        "Hello.\nPS Bye.",
        False,
        id="postscript-ps-without-dots",
    ),
    pytest.param(
        "detectable_content:postscript",
        {"postscript_marker": "P.S."},
        "Hello.\nP.  S. Bye.",
        False,
        id="postscript-ps-two-spaces",
    ),
    pytest.param(
        "detectable_content:postscript",
        {"postscript_marker": "P.S."},
        "Hello. P.S. Bye.",
        False,
        id="postscript-not-at-line-start",
    ),
    pytest.param(
        "detectable_content:postscript",
        {"postscript_marker": "P.P.S"},
        "Hi.\n\nP.P.S Bye.",
        True,
        id="postscript-pps",
    ),
    pytest.param(
        "detectable_content:postscript",
        {"postscript_marker": "P.P.S"},
        "Hi.\n\nP. P. S. Bye.",
        True,
        id="postscript-pps-spaces",
    ),
    pytest.param(
        "detectable_content:postscript",
        {"postscript_marker": "P.P.S"},
        "Hi.\n\nP.S. Bye.",
        False,
        id="postscript-pps-needs-two-ps",
    ),
    pytest.param(
        "detectable_content:postscript",
        {"postscript_marker": "Note:"},
        "Body.\nNOTE: extra.",
        True,
        id="postscript-other-marker",
    ),
    pytest.param(
        "detectable_content:postscript",
        {"postscript_marker": "Note:"},
        "Body.\nNote extra.",
        False,
        id="postscript-other-marker-literal",
    ),
    # detectable_format:number_bullet_lists: exactly n.
    pytest.param(
        "detectable_format:number_bullet_lists",
        {"num_bullets": 3},
        "* one\n* two\n- three",
        True,
        id="bullets-star-and-dash",
    ),
    pytest.param(
        "detectable_format:number_bullet_lists",
        {"num_bullets": 2},
        "* one\n* two\n- three",
        False,
        id="bullets-too-many",
    ),
    pytest.param(
        "detectable_format:number_bullet_lists",
        {"num_bullets": 4},
        "* one\n* two\n- three",
        False,
        id="bullets-too-few",
    ),
    pytest.param(
        "detectable_format:number_bullet_lists",
        {"num_bullets": 2},
        "**Bold heading**\n* one\n* two\n**Another**",
        True,
        id="bullets-bold-lines-not-counted",
    ),
    pytest.param(
        "detectable_format:number_bullet_lists",
        {"num_bullets": 2},
        "Intro\n   * nested\n\t- tabbed",
        True,
        id="bullets-indented",
    ),
    pytest.param(
        "detectable_format:number_bullet_lists",
        {"num_bullets": 0},
        "1. first\n2. second\na * b",
        True,
        id="bullets-numbered-and-inline-stars-not-counted",
    ),
    # detectable_format:constrained_response.
    pytest.param(
        "detectable_format:constrained_response", {}, "My answer is yes.", True, id="constrained-yes"
    ),
    pytest.param(
        "detectable_format:constrained_response",
        {},
        "Hmm. My answer is maybe. Because.",
        True,
        id="constrained-embedded-maybe",
    ),
    pytest.param(
        "detectable_format:constrained_response",
        {},
        "  My answer is no.  ",
        True,
        id="constrained-no-with-spaces",
    ),
    pytest.param(
        "detectable_format:constrained_response",
        {},
        "My answer is Yes.",
        False,
        id="constrained-case-sensitive",
    ),
    pytest.param(
        "detectable_format:constrained_response", {}, "My answer is yes", False, id="constrained-needs-period"
    ),
    # detectable_format:number_highlighted_sections: at least n.
    pytest.param(
        "detectable_format:number_highlighted_sections",
        {"num_highlights": 2},
        "See *one* and *two*.",
        True,
        id="highlights-equal",
    ),
    pytest.param(
        "detectable_format:number_highlighted_sections",
        {"num_highlights": 3},
        "See *one* and *two*.",
        False,
        id="highlights-too-few",
    ),
    pytest.param(
        "detectable_format:number_highlighted_sections",
        {"num_highlights": 1},
        "A **bold** word.",
        True,
        id="highlights-double-star-counts",
    ),
    pytest.param(
        "detectable_format:number_highlighted_sections",
        {"num_highlights": 2},
        "A **bold** word.",
        False,
        id="highlights-double-star-counts-once",
    ),
    pytest.param(
        "detectable_format:number_highlighted_sections",
        {"num_highlights": 2},
        "*one* then **two**",
        True,
        id="highlights-single-plus-double",
    ),
    pytest.param(
        "detectable_format:number_highlighted_sections",
        {"num_highlights": 1},
        "*starts here\nends here*",
        False,
        id="highlights-across-newline-not-counted",
    ),
    pytest.param(
        "detectable_format:number_highlighted_sections",
        {"num_highlights": 1},
        "blank * * and ** ** here",
        False,
        id="highlights-blank-content-not-counted",
    ),
    # detectable_format:multiple_sections: pieces after the first >= n.
    pytest.param(
        "detectable_format:multiple_sections",
        {"section_spliter": "Section", "num_sections": 2},
        "Section 1\nIntro.\nSection 2\nBody.",
        True,
        id="sections-equal",
    ),
    pytest.param(
        "detectable_format:multiple_sections",
        {"section_spliter": "Section", "num_sections": 3},
        "Section 1\nIntro.\nSection 2\nBody.",
        False,
        id="sections-too-few",
    ),
    pytest.param(
        "detectable_format:multiple_sections",
        {"section_spliter": "SECTION", "num_sections": 3},
        "SECTION 1 a SECTION 2 b SECTION 3 c SECTION 4 d",
        True,
        id="sections-more-is-fine",
    ),
    pytest.param(
        "detectable_format:multiple_sections",
        {"section_spliter": "Section", "num_sections": 1},
        "Section one\nSection two",
        False,
        id="sections-need-a-number",
    ),
    pytest.param(
        "detectable_format:multiple_sections",
        {"section_spliter": "Day", "num_sections": 2},
        "Day1: arrive.\nDay2: leave.",
        True,
        id="sections-number-without-space",
    ),
    pytest.param(
        "detectable_format:multiple_sections",
        {"section_spliter": "Section", "num_sections": 1},
        "SECTION 1\nbody",
        False,
        id="sections-splitter-is-case-sensitive",
    ),
    # detectable_format:json_format.
    pytest.param("detectable_format:json_format", {}, '{"a": 1}', True, id="json-plain"),
    pytest.param(
        "detectable_format:json_format", {}, '\n  ["x", 2]  \n', True, id="json-array-with-whitespace"
    ),
    pytest.param("detectable_format:json_format", {}, '```json\n{"a": 1}\n```', True, id="json-fenced-json"),
    pytest.param("detectable_format:json_format", {}, '```JSON\n{"a": 1}\n```', True, id="json-fenced-JSON"),
    pytest.param("detectable_format:json_format", {}, '```Json\n{"a": 1}\n```', True, id="json-fenced-Json"),
    pytest.param("detectable_format:json_format", {}, '```\n{"a": 1}\n```', True, id="json-fenced-bare"),
    pytest.param(
        "detectable_format:json_format",
        {},
        '```python\n{"a": 1}\n```',
        False,
        id="json-fenced-other-language",
    ),
    pytest.param("detectable_format:json_format", {}, 'Here it is: {"a": 1}', False, id="json-with-prose"),
    pytest.param("detectable_format:json_format", {}, '{"a": 1,}', False, id="json-trailing-comma"),
    pytest.param("detectable_format:json_format", {}, "{'a': 1}", False, id="json-single-quotes"),
    # detectable_format:title.
    pytest.param("detectable_format:title", {}, "<<Poem of Joy>>\nLines.", True, id="title-present"),
    pytest.param("detectable_format:title", {}, "Text <<x>> text", True, id="title-inline"),
    pytest.param("detectable_format:title", {}, "<<   >>\nLines.", False, id="title-blank"),
    pytest.param("detectable_format:title", {}, "<<>>", False, id="title-empty"),
    pytest.param("detectable_format:title", {}, "<<Poem\nof Joy>>", False, id="title-across-newline"),
    pytest.param("detectable_format:title", {}, "<Poem of Joy>", False, id="title-single-brackets"),
    # combination:two_responses.
    pytest.param(
        "combination:two_responses", {}, "First answer.\n******\nSecond answer.", True, id="two-responses"
    ),
    pytest.param(
        "combination:two_responses", {}, "Same text\n******\nSame text", False, id="two-responses-identical"
    ),
    pytest.param(
        "combination:two_responses",
        {},
        "Same text\n******\n   Same text  \n",
        False,
        id="two-responses-identical-after-strip",
    ),
    pytest.param("combination:two_responses", {}, "A\n******\nB\n******\nC", False, id="two-responses-three"),
    pytest.param(
        "combination:two_responses",
        {},
        "******\nA\n******\nB\n******",
        True,
        id="two-responses-empty-ends-allowed",
    ),
    pytest.param(
        "combination:two_responses", {}, "A\n******\n  \n******\nB", False, id="two-responses-empty-middle"
    ),
    pytest.param("combination:two_responses", {}, "Only one answer.", False, id="two-responses-one"),
    # combination:repeat_prompt.
    pytest.param(
        "combination:repeat_prompt",
        {"prompt_to_repeat": "Write a poem about cats."},
        "write a poem about CATS. Cats purr.",
        True,
        id="repeat-case-insensitive",
    ),
    pytest.param(
        "combination:repeat_prompt",
        {"prompt_to_repeat": "  Write a poem about cats.  "},
        "\n  Write a poem about cats.\nCats purr.",
        True,
        id="repeat-both-stripped",
    ),
    pytest.param(
        "combination:repeat_prompt",
        {"prompt_to_repeat": "Write a poem about cats."},
        "Sure! Write a poem about cats. Cats purr.",
        False,
        id="repeat-words-before",
    ),
    pytest.param(
        "combination:repeat_prompt",
        {"prompt_to_repeat": "Write a poem about cats."},
        "Write a poem about dogs. Dogs bark.",
        False,
        id="repeat-changed",
    ),
    # startend:end_checker.
    pytest.param(
        "startend:end_checker",
        {"end_phrase": "Is there anything else I can help with?"},
        "Done. Is there anything else I can help with?",
        True,
        id="end-exact",
    ),
    pytest.param(
        "startend:end_checker",
        {"end_phrase": "Is there anything else I can help with?"},
        "Done. is there anything ELSE i can help with?  \n",
        True,
        id="end-case-and-whitespace",
    ),
    pytest.param(
        "startend:end_checker",
        {"end_phrase": "Is there anything else I can help with?"},
        '"Done. Is there anything else I can help with?"',
        True,
        id="end-followed-by-double-quote",
    ),
    pytest.param(
        "startend:end_checker",
        {"end_phrase": "Is there anything else I can help with?"},
        "Done. Is there anything else I can help with?'",
        False,
        id="end-followed-by-single-quote",
    ),
    pytest.param(
        "startend:end_checker",
        {"end_phrase": "Is there anything else I can help with?"},
        "Done. Is there anything else I can help with? Thanks.",
        False,
        id="end-words-after",
    ),
    pytest.param(
        "startend:end_checker",
        {"end_phrase": "Is there anything else I can help with?"},
        "Done. Is there anything else I can help with",
        False,
        id="end-missing-question-mark",
    ),
    # startend:quotation.
    pytest.param("startend:quotation", {}, '"Hello there."', True, id="quotation-wrapped"),
    pytest.param("startend:quotation", {}, '  \n"Hello there."\n', True, id="quotation-outer-whitespace"),
    pytest.param("startend:quotation", {}, '""', True, id="quotation-two-quotes"),
    pytest.param("startend:quotation", {}, '"', False, id="quotation-single-char"),
    pytest.param("startend:quotation", {}, '"Hello there.', False, id="quotation-unclosed"),
    pytest.param("startend:quotation", {}, "'Hello there.'", False, id="quotation-single-quotes"),
    pytest.param("startend:quotation", {}, "\u201cHello there.\u201d", False, id="quotation-curly-quotes"),
    # change_case:capital_word_frequency: WOW, U.S., HELLO-WORLD, OK and AB12 are upper-case tokens.
    pytest.param(
        "change_case:capital_word_frequency",
        {"capital_frequency": 5, "capital_relation": AT_LEAST},
        "WOW, the U.S. and HELLO-WORLD are OK. 123 AB12",
        True,
        id="capital-at-least-equal",
    ),
    pytest.param(
        "change_case:capital_word_frequency",
        {"capital_frequency": 5, "capital_relation": LESS},
        "WOW, the U.S. and HELLO-WORLD are OK. 123 AB12",
        False,
        id="capital-less-than-equal",
    ),
    pytest.param(
        "change_case:capital_word_frequency",
        {"capital_frequency": 6, "capital_relation": LESS},
        "WOW, the U.S. and HELLO-WORLD are OK. 123 AB12",
        True,
        id="capital-less-than-below",
    ),
    pytest.param(
        "change_case:capital_word_frequency",
        {"capital_frequency": 6, "capital_relation": AT_LEAST},
        "WOW, the U.S. and HELLO-WORLD are OK. 123 AB12",
        False,
        id="capital-at-least-below",
    ),
    pytest.param(
        "change_case:capital_word_frequency",
        {"capital_frequency": 1, "capital_relation": LESS},
        "All of these are Title or lower case, 42.",
        True,
        id="capital-none",
    ),
    # change_case:english_capital.
    pytest.param(
        "change_case:english_capital",
        {},
        "THIS RESPONSE IS WRITTEN ENTIRELY IN ENGLISH AND USES ONLY CAPITAL LETTERS.",
        True,
        id="english-capital",
    ),
    pytest.param(
        "change_case:english_capital",
        {},
        "THIS RESPONSE IS WRITTEN IN ENGLISH BUT one word is not.",
        False,
        id="english-capital-mixed",
    ),
    pytest.param("change_case:english_capital", {}, "12345", False, id="english-capital-no-letters"),
    pytest.param(
        "change_case:english_capital",
        {},
        "\u24b6\u24b7\u24b8",
        True,
        id="english-capital-detection-fails-counts-as-followed",
    ),
    # change_case:english_lowercase.
    pytest.param(
        "change_case:english_lowercase",
        {},
        "this response is written entirely in english and uses no capital letters at all.",
        True,
        id="english-lowercase",
    ),
    pytest.param(
        "change_case:english_lowercase",
        {},
        "this response is written in English with one capital.",
        False,
        id="english-lowercase-capital",
    ),
    pytest.param(
        "change_case:english_lowercase",
        {},
        "ceci est un texte entièrement écrit en français, sans aucune majuscule.",
        False,
        id="english-lowercase-not-english",
    ),
    pytest.param(
        "change_case:english_lowercase",
        {},
        "\uff41\uff42\uff43",
        True,
        id="english-lowercase-detection-fails-counts-as-followed",
    ),
    # punctuation:no_comma.
    pytest.param("punctuation:no_comma", {}, "No commas in this text at all.", True, id="no-comma"),
    pytest.param("punctuation:no_comma", {}, "One, two.", False, id="no-comma-has-comma"),
    pytest.param("punctuation:no_comma", {}, "Line one\nline two,", False, id="no-comma-at-end"),
]


@pytest.mark.parametrize("kind, kwargs, response, expected", CASES)
def test_checker_verdict(kind, kwargs, response, expected):
    assert check(kind, response, **kwargs) is expected


def test_every_kind_has_a_passing_and_a_failing_case():
    seen = {}
    for case in CASES:
        kind, _, _, expected = case.values
        seen.setdefault(kind, set()).add(expected)
    assert {k for k, v in seen.items() if v == {True, False}} == IFEVAL_KINDS


def test_checks_return_plain_bools():
    """Verdicts are stored and serialised; a match object or count would leak through."""
    for case in CASES:
        kind, kwargs, response, _ = case.values
        assert type(check(kind, response, **kwargs)) is bool, kind


def test_relation_boundaries_for_zero():
    rule_less = build("length_constraints:number_words", {"num_words": 0, "relation": LESS})
    rule_least = build("length_constraints:number_words", {"num_words": 0, "relation": AT_LEAST})
    assert rule_less.check("anything") is False  # nothing is fewer than 0
    assert rule_least.check("") is True


# ---- build: validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, kwargs, named",
    [
        pytest.param("keywords:nope", {}, ["keywords:nope"], id="unknown-kind"),
        pytest.param(["keywords:existence"], {}, ["unknown rule kind"], id="unhashable-kind"),
        pytest.param(
            "keywords:frequency",
            {"keyword": "x", "relation": AT_LEAST},
            ["keywords:frequency", "frequency"],
            id="missing-kwarg",
        ),
        pytest.param(
            "keywords:frequency",
            {"keyword": "x", "frequency": None, "relation": AT_LEAST},
            ["keywords:frequency", "'frequency'"],
            id="null-kwarg-is-missing",
        ),
        pytest.param(
            "length_constraints:number_words",
            {"num_words": "10", "relation": AT_LEAST},
            ["length_constraints:number_words", "num_words"],
            id="integer-as-string",
        ),
        pytest.param(
            "length_constraints:number_words",
            {"num_words": True, "relation": AT_LEAST},
            ["num_words"],
            id="bool-is-not-an-integer",
        ),
        pytest.param(
            "length_constraints:number_words",
            {"num_words": 2.5, "relation": AT_LEAST},
            ["num_words"],
            id="float-is-not-an-integer",
        ),
        pytest.param(
            "length_constraints:number_words",
            {"num_words": -1, "relation": AT_LEAST},
            ["num_words"],
            id="negative-integer",
        ),
        pytest.param(
            "length_constraints:number_words",
            {"num_words": 10, "relation": "more than"},
            ["relation"],
            id="unknown-relation",
        ),
        pytest.param("keywords:existence", {"keywords": []}, ["keywords"], id="empty-keyword-list"),
        pytest.param("keywords:existence", {"keywords": "cat"}, ["keywords"], id="keywords-not-a-list"),
        pytest.param("keywords:existence", {"keywords": ["cat", " "]}, ["keywords"], id="blank-keyword"),
        pytest.param(
            "keywords:letter_frequency",
            {"letter": "ab", "let_frequency": 1, "let_relation": LESS},
            ["letter"],
            id="letter-too-long",
        ),
        pytest.param("startend:end_checker", {"end_phrase": "   "}, ["end_phrase"], id="blank-string"),
        pytest.param("startend:end_checker", {"end_phrase": 7}, ["end_phrase"], id="string-as-integer"),
        pytest.param(
            "punctuation:no_comma",
            {"num_words": 3},
            ["punctuation:no_comma", "num_words"],
            id="unexpected-kwarg",
        ),
        pytest.param(
            "punctuation:no_comma", ["x"], ["punctuation:no_comma", "object"], id="kwargs-not-a-dict"
        ),
    ],
)
def test_build_rejects_bad_rules_naming_kind_and_kwarg(kind, kwargs, named):
    with pytest.raises(RuleError) as err:
        build(kind, kwargs)
    for text in named:
        assert text in str(err.value)


def test_build_error_starts_with_where():
    with pytest.raises(RuleError, match=r"^data\.jsonl:7: .*keywords:frequency.*'relation'"):
        build("keywords:frequency", {"keyword": "x", "frequency": 2}, where="data.jsonl:7")


def test_build_ignores_null_kwargs():
    """IFEval's published kwargs list every name, mostly null; null means 'not given'."""
    rule = build("punctuation:no_comma", {"keywords": None, "num_words": None, "relation": None})
    assert rule.check("a b") and not rule.check("a, b")
    rule = build(
        "length_constraints:number_words",
        {"num_words": 2, "relation": LESS, "keywords": None, "end_phrase": None},
    )
    assert rule.check("one") and not rule.check("one two")


def test_build_without_kwargs_for_kinds_without_params():
    assert build("detectable_format:title").check("<<t>>")
    assert build("detectable_format:title", None).check("<<t>>")
    with pytest.raises(RuleError, match="missing kwarg 'end_phrase'"):
        build("startend:end_checker")


def test_build_keeps_the_given_kwargs():
    rule = build("keywords:frequency", {"keyword": "x", "frequency": 0, "relation": AT_LEAST})
    assert rule.kwargs == {"keyword": "x", "frequency": 0, "relation": AT_LEAST}


def test_checker_of_stored_rules():
    free = {"id": "r1", "text": "Be kind.", "category": "persona", "kind": None, "kwargs": None}
    assert checker_of(free) is None
    stored = {
        "id": "r2",
        "text": "No commas.",
        "category": "style",
        "kind": "punctuation:no_comma",
        "kwargs": {},
    }
    assert checker_of(stored).check("a, b") is False
    broken = {"id": "r3", "text": "?", "category": "style", "kind": "startend:end_checker", "kwargs": {}}
    with pytest.raises(RuleError, match="rule r3"):
        checker_of(broken)


@pytest.mark.parametrize("kind", sorted(IFEVAL_KINDS))
def test_sampled_kwargs_build_and_render(kind):
    cls = KINDS[kind]
    if not cls.in_pool:
        pytest.skip(f"{kind} is not drawn by rule-aware generation")
    rng = random.Random(7)
    for _ in range(20):
        kwargs = cls.sample(rng)
        rule = build(kind, kwargs)
        text = rule.render()
        assert isinstance(text, str) and text.strip(), kind
        for name, value in kwargs.items():
            if name == "language":
                assert LANGUAGES[value] in text, (kind, value, text)
            elif isinstance(value, (int, str)) and value not in (LESS, AT_LEAST):
                assert str(value) in text, (kind, value, text)


# ---- strict and loose -------------------------------------------------------------------------


def test_loose_variants_are_ifevals_eight():
    response = "Title *here*\nmiddle *part*\nlast *line*"
    assert loose_variants(response) == [
        response,
        "Title here\nmiddle part\nlast line",
        "middle *part*\nlast *line*",
        "Title *here*\nmiddle *part*",
        "middle *part*",
        "middle part\nlast line",
        "Title here\nmiddle part",
        "middle part",
    ]


def test_loose_variants_strip_trimmed_pieces():
    assert loose_variants("  a\n  b  \n c ")[2:5] == ["b  \n c", "a\n  b", "b"]


@pytest.mark.parametrize("response", ["", "   ", "\n\t\n"])
def test_blank_response_never_follows(response):
    rule = build("punctuation:no_comma")  # a blank text has no comma, yet it follows nothing
    assert rule.check(response) is True
    assert follows(rule, response) is False
    assert follows(rule, response, loose=True) is False


@pytest.mark.parametrize(
    "kind, kwargs, response",
    [
        pytest.param(
            "startend:end_checker",
            {"end_phrase": "Is there anything else I can help with?"},
            "Answer. Is there anything else I can help with?\n-- Bot",
            id="without-last-line",
        ),
        pytest.param(
            "startend:quotation", {}, 'Sure, here it is:\n"Quoted answer."', id="without-first-line"
        ),
        pytest.param("startend:quotation", {}, 'Sure:\n"Quoted answer."\nHope it helps.', id="without-both"),
        pytest.param("startend:end_checker", {"end_phrase": "Peace!"}, "Bye. **Peace!**", id="stars-removed"),
        pytest.param(
            "detectable_format:json_format", {}, 'Here you go:\n{"a": "**x**"}', id="first-line-off"
        ),
        pytest.param(
            "punctuation:no_comma", {}, "Sure, here:\nno commas here\nBest, me", id="both-lines-off"
        ),
        pytest.param(
            "change_case:english_lowercase",
            {},
            "here is my whole answer written in small letters only\nBest, [Your Name]",
            id="lowercase-without-signature",
        ),
    ],
)
def test_loose_rescues_what_strict_fails(kind, kwargs, response):
    rule = build(kind, kwargs)
    assert follows(rule, response) is False
    assert follows(rule, response, loose=True) is True


def test_loose_still_fails_when_every_variant_fails():
    rule = build("punctuation:no_comma")
    assert follows(rule, "first\nmiddle, line\nlast", loose=True) is False
    rule = build("startend:end_checker", {"end_phrase": "The end."})
    assert follows(rule, "one\ntwo\nthree", loose=True) is False


def test_loose_skips_empty_variants():
    """A one-line response leaves three empty variants; fewer than 1 word would pass them."""
    rule = build("length_constraints:number_words", {"num_words": 1, "relation": LESS})
    assert rule.check("") is True
    assert follows(rule, "hello", loose=True) is False
    assert follows(rule, "***", loose=True) is True  # the response itself has no words


@pytest.mark.parametrize(
    "kind, kwargs, response, expected", [c for c in CASES if c.values[3] and c.values[2].strip()]
)
def test_loose_never_loses_a_strict_pass(kind, kwargs, response, expected):
    rule = build(kind, kwargs)
    assert follows(rule, response) is True
    assert follows(rule, response, loose=True) is True


def test_strict_checks_response_as_is():
    rule = build("detectable_format:number_highlighted_sections", {"num_highlights": 1})
    assert follows(rule, "Some *highlighted* text") is True
    assert follows(rule, "first line\nno highlights here") is False


# ---- conflict table ---------------------------------------------------------------------------


def test_conflict_table_covers_every_kind():
    assert set(CONFLICTS) == set(KINDS)
    for kind, others in CONFLICTS.items():
        assert others <= set(KINDS), kind


def test_conflict_table_is_reflexive():
    for kind, others in CONFLICTS.items():
        assert kind in others, kind


def test_conflict_table_is_symmetric():
    for kind, others in CONFLICTS.items():
        for other in others:
            assert kind in CONFLICTS[other], (kind, other)


@pytest.mark.parametrize(
    "a, b",
    [
        ("language:response_language", "keywords:existence"),
        ("language:response_language", "change_case:english_lowercase"),
        ("length_constraints:number_paragraphs", "length_constraints:nth_paragraph_first_word"),
        ("detectable_format:json_format", "punctuation:no_comma"),
        ("combination:repeat_prompt", "startend:end_checker"),
        ("change_case:capital_word_frequency", "change_case:english_capital"),
        ("startend:quotation", "detectable_format:title"),
        ("detectable_format:constrained_response", "detectable_format:title"),
    ],
)
def test_known_conflicts_in_both_orders(a, b):
    assert b in CONFLICTS[a] and a in CONFLICTS[b]
    assert not compatible([a, b]) and not compatible([b, a])


def test_compatible():
    assert compatible(["punctuation:no_comma", "detectable_format:title", "keywords:existence"])
    assert compatible(["detectable_format:json_format", "keywords:forbidden_words"])
    assert compatible([])
    assert not compatible(["punctuation:no_comma", "punctuation:no_comma"])
    assert not compatible(["detectable_format:title", "punctuation:no_comma", "startend:quotation"])
