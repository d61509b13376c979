"""Rule formats that bleed into answers to rule-free prompts, detected with the rules' own checkers."""

from rnr_core.rules.base import build
from rnr_core.rules.evaluate import follows

# Formats an ordinary answer would not show by chance; each is a checker of a trained kind.
FORMATS = {
    "lowercase": build("change_case:english_lowercase"),
    "uppercase": build("change_case:english_capital"),
    "quotation": build("startend:quotation"),
    "title": build("detectable_format:title"),
    "postscript": build("detectable_content:postscript", {"postscript_marker": "P.S."}),
    "postscript_pps": build("detectable_content:postscript", {"postscript_marker": "P.P.S"}),
}


def formats_in(answer: str, end_phrases: list[str] = ()) -> list[str]:
    """The rule formats an answer shows: the checkers above, and any end phrase used in training."""
    found = [name for name, rule in FORMATS.items() if follows(rule, answer)]
    tail = answer.strip().strip('"').lower()
    if any(tail.endswith(p.strip().lower()) for p in end_phrases):
        found.append("end_phrase")
    return found


def bleed(answers: list[str | None], end_phrases: list[str] = ()) -> dict:
    """The share of answers showing any rule format, and the count per format."""
    given = [a for a in answers if a]
    per: dict[str, int] = {}
    showing = 0
    for answer in given:
        found = formats_in(answer, end_phrases)
        showing += bool(found)
        for name in found:
            per[name] = per.get(name, 0) + 1
    return {
        "answers": len(given),
        "showing": showing,
        "rate": showing / len(given) if given else None,
        "by_format": per,
    }
