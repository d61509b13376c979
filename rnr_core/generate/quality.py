"""A quality gate on generated system prompts: what makes one useless as training data (pure)."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher
from itertools import combinations

from rnr_core.rules.conflicts import CONFLICTS
from rnr_core.rules.style import LANGUAGES

NEAR_DUPLICATE = 0.9  # SequenceMatcher ratio from which two rules say the same thing
MIN_ROLE_WORDS, MIN_ROLE_SPECIFIC = 4, 2

# Tag names a rule may legitimately quote ("never output <br> tags"); any other <word> is a slot.
_HTML_TAGS = frozenset(
    "a b i u p br hr em strong code pre div span img table tr td th ul ol li h1 h2 h3 h4 h5 h6 "
    "html head body title script style details summary sup sub kbd".split()
)
_SQUARE = re.compile(r"\[\s*[A-Za-z][^\[\]\n]{0,60}\](?!\()")  # not a markdown link [text](url)
_CURLY = re.compile(r"\{\s*[A-Za-z_][\w .-]{0,40}\}")
_ANGLE = re.compile(r"(?<!<)<\s*([A-Za-z][\w .-]{0,40})>(?!>)")  # not <<title>>
_ELLIPSIS = re.compile(r"(?:^|\s)(?:\.{3,}|…)|(?:\.{3,}|…)\s*$")
_WORD = re.compile(r"[a-z0-9]+")
# Words that say nothing about who the assistant is.
_FILLER = frozenset("you are youre a an the i am as be is your my this".split())
_GENERIC = frozenset("ai assistant helpful chatbot bot model language large virtual friendly".split())
_NEGATIVE = (
    "you must never",
    "you should never",
    "you must not",
    "you should not",
    "never",
    "do not",
    "dont",
)
_POSITIVE = ("you must always", "you should always", "always", "you must", "you should")
_CONDITIONAL = frozenset("if when unless otherwise except".split())
_NEGATION = frozenset("never not dont avoid".split())
_LANGUAGE = re.compile(
    r"\b(?:respond|reply|answer|write|speak|communicate)\w*\b[\w ,]{0,40}?\bin ("
    + "|".join(sorted(LANGUAGES.values()))
    + r")\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Problem:
    """One reason a system prompt is rejected: a stable code and a sentence naming where."""

    code: str
    detail: str


def _free_texts(role: str, rules: list[dict]) -> list[tuple[str, str]]:
    """(where, text) for the role and the model-written rules; registry rules are our own wording."""
    return [("role", role)] + [(f"rule {r['id']}", r["text"]) for r in rules if not r.get("kind")]


def _slots(text: str) -> list[str]:
    angle = [m.group(0) for m in _ANGLE.finditer(text) if m.group(1).strip().lower() not in _HTML_TAGS]
    return [m.group(0) for m in _SQUARE.finditer(text)] + [m.group(0) for m in _CURLY.finditer(text)] + angle


def placeholders(role: str, rules: list[dict]) -> list[Problem]:
    """Template slots left unfilled: [Your Role], <name>, {topic}, [insert ...]."""
    return [
        Problem("placeholder", f"{where} has the placeholder {slot!r} where content belongs")
        for where, text in _free_texts(role, rules)
        for slot in _slots(text)[:1]
    ]


def ellipses(role: str, rules: list[dict]) -> list[Problem]:
    """'...' standing for content: alone as a word, or trailing off at the end."""
    return [
        Problem("ellipsis", f"{where} has '...' standing for content: {text.strip()[:60]!r}")
        for where, text in _free_texts(role, rules)
        if _ELLIPSIS.search(text.strip())
    ]


def short_role(role: str, rules: list[dict]) -> list[Problem]:
    """A role must name who the assistant is in more than a word or two of boilerplate."""
    words = _WORD.findall(role.lower().replace("'", ""))
    specific = [w for w in words if w not in _FILLER | _GENERIC]
    if len(words) >= MIN_ROLE_WORDS and len(specific) >= MIN_ROLE_SPECIFIC:
        return []
    return [Problem("role_too_short", f"role {role.strip()[:60]!r} does not say who the assistant is")]


def _normal(text: str) -> str:
    """Lower case, no punctuation, single spaces: how rules are compared."""
    return " ".join(_WORD.findall(text.lower().replace("'", "")))


def _text_pairs(rules: list[dict]):
    """Pairs of rules compared by wording; two registry rules are compared by kind instead."""
    return ((a, b) for a, b in combinations(rules, 2) if not (a.get("kind") and b.get("kind")))


def duplicates(role: str, rules: list[dict]) -> list[Problem]:
    """The same rule twice, word for word or nearly, or the same registry rule twice."""
    found = []
    for a, b in _text_pairs(rules):
        ratio = SequenceMatcher(None, _normal(a["text"]), _normal(b["text"])).ratio()
        if ratio >= NEAR_DUPLICATE:
            how = "repeats" if ratio == 1 else f"nearly repeats ({ratio:.2f})"
            found.append(Problem("duplicate_rule", f"rule {b['id']} {how} rule {a['id']}"))
    kinded = [r for r in rules if r.get("kind")]
    for a, b in combinations(kinded, 2):
        if a["kind"] == b["kind"] and a.get("kwargs") == b.get("kwargs"):
            found.append(Problem("duplicate_rule", f"rule {b['id']} repeats rule {a['id']} ({a['kind']})"))
    return found


def _directive(text: str) -> tuple[bool, str]:
    """(is it a prohibition, what it is about): 'Never use X' -> (True, 'use x')."""
    words = _normal(text)
    for negative, prefixes in ((True, _NEGATIVE), (False, _POSITIVE)):
        for prefix in prefixes:
            if words.startswith(prefix + " "):
                return negative, words[len(prefix) + 1 :]
    return False, words


def _language(text: str) -> str | None:
    """The language an unconditional, positive rule demands the reply be in."""
    words = set(_normal(text).split())
    if words & (_CONDITIONAL | _NEGATION):
        return None
    found = _LANGUAGE.search(text)
    return found.group(1).title() if found else None


def _kinds_clash(a: dict, b: dict) -> str | None:
    """Registry rules whose kinds must not share a prompt (IFEval's table; the same kind twice, too)."""
    if not (a.get("kind") and b.get("kind")) or b["kind"] not in CONFLICTS.get(a["kind"], ()):
        return None
    if a["kind"] != b["kind"]:
        return f"{a['kind']} and {b['kind']} clash"
    return None if a["kwargs"] == b["kwargs"] else f"both are {a['kind']} with other settings"


def _wordings_clash(a: dict, b: dict) -> str | None:
    """'Always X' against 'never X', or two different reply languages; registry pairs go by kind."""
    if a.get("kind") and b.get("kind"):
        return None
    (neg_a, body_a), (neg_b, body_b) = _directive(a["text"]), _directive(b["text"])
    if body_a == body_b and neg_a != neg_b:
        return f"one requires and the other forbids {body_a!r}"
    lang_a, lang_b = _language(a["text"]), _language(b["text"])
    if lang_a and lang_b and lang_a != lang_b:
        return f"one asks for {lang_a} and the other for {lang_b}"
    return None


def contradictions(role: str, rules: list[dict]) -> list[Problem]:
    """Rules that cannot all be kept."""
    return [
        Problem("contradictory_rules", f"rules {a['id']} and {b['id']} contradict: {why}")
        for a, b in combinations(rules, 2)
        if (why := _kinds_clash(a, b) or _wordings_clash(a, b))
    ]


# In this order: the first problem found names the prompt's reason.
CHECKS: tuple[Callable[[str, list[dict]], list[Problem]], ...] = (
    placeholders,
    ellipses,
    short_role,
    duplicates,
    contradictions,
)


def problems(role: str, rules: list[dict]) -> list[Problem]:
    """Everything wrong with a system prompt (role and rule records); empty when it is fit to train on."""
    return [p for check in CHECKS for p in check(role, rules)]
