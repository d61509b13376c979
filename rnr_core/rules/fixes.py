"""Mechanical fixes for verifiable rules that have an exact one, verified by the rule's own checker.

A fixer is pure: it takes the rule and a response and returns an edited response that passes the
rule's check (lowercase it, wrap it in quotes, append the end phrase, ...). `fix_response` applies
the fixers a response needs in an order where later edits keep earlier ones (content first, then
case and punctuation, then the quotes around everything) and keeps an edit only when the checkers
confirm it.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from rnr_core.rules import checker_of
from rnr_core.rules.base import RuleKind
from rnr_core.rules.formatting import _DASH_BULLET, _STAR_BULLET
from rnr_core.rules.text import sentences

TITLE_WORDS = 8  # a derived title keeps at most this many words
POSTSCRIPT_TEXT = "Feel free to ask if any part of this needs more detail."
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")
_TITLE_JUNK = re.compile(r"[<>\[\]{}*_`#\"]")
_DIGIT_COMMA = re.compile(r"(?<=\d),(?=\d{3}\b)")
_COMMA_GLUE = re.compile(r",(?=\S)")


@dataclass(frozen=True)
class Fixer:
    """An exact edit for one rule kind; `order` places it among the others in `fix_response`."""

    name: str
    order: int
    edit: Callable[..., str]  # (rule, response, instruction) -> response


def lowercase(rule: RuleKind, response: str, instruction: str | None = None) -> str:
    return response.lower()


def uppercase(rule: RuleKind, response: str, instruction: str | None = None) -> str:
    return response.upper()


def quote(rule: RuleKind, response: str, instruction: str | None = None) -> str:
    """Wrap in double quotes; an opening bullet line gets the quote on a line of its own, so the
    quote does not hide the bullet, while the closing quote stays on the last line so an end
    phrase is still the last thing before it."""
    body = response.strip()
    if len(body) > 1 and body[0] == '"' and body[-1] == '"':
        return body
    first = body.split("\n", 1)[0]
    opening = '"\n' if _STAR_BULLET.match(first) or _DASH_BULLET.match(first) else '"'
    return f'{opening}{body}"'


def _sentence_key(value: str) -> str:
    return re.sub(r"[\W_]+", " ", value).strip().lower()


def end_phrase(rule: RuleKind, response: str, instruction: str | None = None) -> str:
    """Append the phrase. A closing sentence that says it with other punctuation is replaced, and
    the phrase said earlier (before a postscript added after it) is moved to the end, not repeated."""
    body, phrase = response.rstrip(), rule.end_phrase.strip()
    last = sentences(body)[-1] if body.strip() else ""
    if last and _sentence_key(last) == _sentence_key(phrase) and body.endswith(last):
        return body[: len(body) - len(last)] + phrase
    at = body.lower().rfind(phrase.lower())
    if at >= 0:
        body = (body[:at].rstrip(" ") + body[at + len(phrase) :]).rstrip()
        body = re.sub(r"\n{3,}", "\n\n", body)
    sep = "\n\n" if "\n" in body else " "
    return f"{body}{sep}{phrase}" if body else phrase


def no_comma(rule: RuleKind, response: str, instruction: str | None = None) -> str:
    """Drop commas: 1,000 becomes 1000, 'a,b' becomes 'a b', and ', ' becomes ' '."""
    text = _DIGIT_COMMA.sub("", response)
    text = _COMMA_GLUE.sub(" ", text)
    return text.replace(",", "")


def _title_words(source: str) -> str:
    line = next((ln for ln in source.splitlines() if ln.strip()), "")
    words = [w for w in _TITLE_JUNK.sub(" ", line).split() if w.lower().strip(".,;:!?") != "please"]
    words = words[:TITLE_WORDS]
    return " ".join(words).rstrip(".,;:!?") if words else ""


def title(rule: RuleKind, response: str, instruction: str | None = None) -> str:
    """A markdown heading on the first line becomes the title; otherwise a title line is added,
    made from the instruction's first words (or the response's when there is no instruction)."""
    lines = response.strip().split("\n")
    heading = _HEADING.match(lines[0]) if lines else None
    if heading and _title_words(heading.group(1)):
        return "\n".join([f"<<{_title_words(heading.group(1))}>>", *lines[1:]])
    opening = (sentences(response.strip()) or ("",))[0]
    name = _title_words(instruction or "") or _title_words(opening) or "Response"
    return f"<<{name[:1].upper()}{name[1:]}>>\n\n{response.strip()}"


def postscript(rule: RuleKind, response: str, instruction: str | None = None) -> str:
    return f"{response.rstrip()}\n\n{rule.postscript_marker.strip()} {POSTSCRIPT_TEXT}"


def keywords(rule: RuleKind, response: str, instruction: str | None = None) -> str:
    """A line naming the missing keywords, after the first paragraph (so a closing phrase stays last)."""
    missing = [k for k in rule.keywords if not re.search(re.escape(k), response, flags=re.IGNORECASE)]
    if not missing:
        return response
    names = " and ".join(missing) if len(missing) < 3 else " and ".join([" ".join(missing[:-1]), missing[-1]])
    line = f"Key {'word' if len(missing) == 1 else 'words'}: {names}."
    paragraphs = response.strip().split("\n\n")
    if len(paragraphs) == 1:
        return f"{paragraphs[0]}\n\n{line}"
    return "\n\n".join([paragraphs[0], line, *paragraphs[1:]])


def bullets(rule: RuleKind, response: str, instruction: str | None = None) -> str:
    """Exactly n bullets: a response without any has its sentences shared out over n bullets (all
    the words kept, none invented); too many bullets are merged, neighbours joined by '; '."""
    n, text = rule.num_bullets, response.strip()
    found = len(_STAR_BULLET.findall(text)) + len(_DASH_BULLET.findall(text))
    if not found:
        parts = [s.strip() for s in sentences(" ".join(text.split())) if s.strip()]
        return "\n".join(f"* {' '.join(g)}" for g in _share(parts, n)) if len(parts) >= n > 0 else response
    if found > n > 0:
        return _merge_bullets(text, n)
    return response


def _share(items: list[str], n: int) -> list[list[str]]:
    """Split items into n consecutive runs whose sizes differ by at most one."""
    size, extra = divmod(len(items), n)
    out, at = [], 0
    for i in range(n):
        step = size + (1 if i < extra else 0)
        out.append(items[at : at + step])
        at += step
    return out


def _merge_bullets(text: str, n: int) -> str:
    """Keep the non-bullet lines where they are and rebuild the bullet block as n bullets."""
    lines = text.split("\n")
    marked = [i for i, ln in enumerate(lines) if _STAR_BULLET.fullmatch(ln) or _DASH_BULLET.fullmatch(ln)]
    items = [re.sub(r"^\s*[*-]\s*", "", lines[i]).strip() for i in marked]
    merged = [f"* {'; '.join(x for x in group if x)}" for group in _share(items, n)]
    first = marked[0]
    kept = [ln for i, ln in enumerate(lines) if i not in set(marked)]
    before = sum(1 for i in range(first) if i not in set(marked))
    return "\n".join(kept[:before] + merged + kept[before:])


FIXERS: dict[str, Fixer] = {
    "detectable_format:number_bullet_lists": Fixer("bullets", 10, bullets),
    "keywords:existence": Fixer("keywords", 20, keywords),
    "detectable_format:title": Fixer("title", 30, title),
    "detectable_content:postscript": Fixer("postscript", 40, postscript),
    "startend:end_checker": Fixer("end_phrase", 50, end_phrase),
    "change_case:english_lowercase": Fixer("lowercase", 60, lowercase),
    "change_case:english_capital": Fixer("uppercase", 60, uppercase),
    "punctuation:no_comma": Fixer("no_comma", 70, no_comma),
    "startend:quotation": Fixer("quotation", 80, quote),
}


def fixable(kind: str | None) -> bool:
    return kind in FIXERS


def fix(rule: RuleKind, response: str, instruction: str | None = None) -> str:
    """The response edited so that it follows `rule` (KeyError for a kind without a fixer)."""
    return FIXERS[rule.id].edit(rule, response, instruction)


def _verdicts(checkers: dict[str, RuleKind], text: str) -> dict[str, bool]:
    return {rid: bool(text.strip()) and c.check(text) for rid, c in checkers.items()}


def _pass(rules: list[dict], checkers: dict, text: str, instruction: str | None, refix: bool):
    """One sweep over the failing fixable rules in fixer order. With `refix`, an edit may undo
    another fixable rule, which the next sweep repairs (a postscript appended after the end phrase)."""
    verdicts, applied, refixable = _verdicts(checkers, text), [], {r["id"] for r in rules}
    for rule in sorted(rules, key=lambda r: FIXERS[r["kind"]].order):
        if verdicts[rule["id"]]:
            continue
        candidate = fix(checkers[rule["id"]], text, instruction)
        after = _verdicts(checkers, candidate)
        broken = [rid for rid, ok in verdicts.items() if ok and not after[rid]]
        if not after[rule["id"]] or any(not (refix and rid in refixable) for rid in broken):
            continue
        text, verdicts = candidate, after
        applied.append(rule)
    return text, applied


def fix_response(rules: list[dict], response: str, instruction: str | None = None) -> tuple[str, list[dict]]:
    """Apply the fixers for the verifiable rules this response fails; return the text and the fixes
    made ({rule_id, kind, fixer}). A rule that passed before still passes after."""
    checked = [r for r in rules if r.get("kind")]
    checkers = {r["id"]: checker_of(r) for r in checked}
    before = _verdicts(checkers, response)
    targets = [r for r in checked if fixable(r["kind"])]
    for refix in (True, False):
        text, applied = response, []
        for _ in range(2 if refix else 1):
            text, more = _pass(targets, checkers, text, instruction, refix)
            applied += more
        after = _verdicts(checkers, text)
        kept = all(after[rid] for rid, ok in before.items() if ok) and all(after[r["id"]] for r in applied)
        if kept:
            break
    fixed = {r["id"]: r for r in applied}
    if not fixed:
        return response, []
    made = [{"rule_id": i, "kind": r["kind"], "fixer": FIXERS[r["kind"]].name} for i, r in fixed.items()]
    return text, made
