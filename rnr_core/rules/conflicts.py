"""IFEval's table of kinds that must not share a prompt, closed under symmetry."""

from rnr_core.rules.base import KINDS

_EXISTENCE, _FORBIDDEN = "keywords:existence", "keywords:forbidden_words"
_LANGUAGE, _NO_COMMA, _TITLE = "language:response_language", "punctuation:no_comma", "detectable_format:title"
_CAPITAL, _LOWER = "change_case:english_capital", "change_case:english_lowercase"
_PARAGRAPHS = "length_constraints:number_paragraphs"
_NTH = "length_constraints:nth_paragraph_first_word"
_SECTIONS = "detectable_format:multiple_sections"


def _declared() -> dict[str, set[str]]:
    """Each kind conflicts with itself, plus what it contradicts or would make ambiguous."""
    every = set(KINDS)
    extra = {
        _LANGUAGE: {
            _SECTIONS,
            _EXISTENCE,
            "keywords:frequency",
            _FORBIDDEN,
            "startend:end_checker",
            _CAPITAL,
            _LOWER,
        },
        _PARAGRAPHS: {_NTH, "length_constraints:number_sentences"},
        _NTH: {_PARAGRAPHS},
        "detectable_format:constrained_response": {k for k in every if k.startswith("detectable_format:")},
        _SECTIONS: {_LANGUAGE, "detectable_format:number_highlighted_sections"},
        "detectable_format:json_format": every - {_FORBIDDEN, _EXISTENCE},
        "combination:two_responses": every - {_FORBIDDEN, _EXISTENCE, _LANGUAGE, _TITLE, _NO_COMMA},
        "combination:repeat_prompt": every - {_EXISTENCE, _NO_COMMA},
        "change_case:capital_word_frequency": {_LOWER, _CAPITAL},
        "startend:quotation": {_TITLE},
        _CAPITAL: {_LOWER},
    }
    return {k: {k} | extra.get(k, set()) for k in every}


def conflict_table() -> dict[str, frozenset[str]]:
    """kind -> kinds it must not be combined with (symmetric, reflexive)."""
    table = _declared()
    for kind, others in list(table.items()):
        for other in others:
            table[other].add(kind)
    return {k: frozenset(v) for k, v in table.items()}


CONFLICTS = conflict_table()


def compatible(kinds: list[str]) -> bool:
    """True when no two of these kinds conflict."""
    return all(b not in CONFLICTS[a] for i, a in enumerate(kinds) for b in kinds[i + 1 :])
