"""Text measures shared by the checkers: sentences, words, tokens and language."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from langdetect.lang_detect_exception import LangDetectException
from nltk.tokenize import NLTKWordTokenizer
from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer, PunktToken

from rnr_core.rules import langid

# Abbreviations that end with a period but rarely end a sentence (lower case, no final period);
# words such as 'sun', 'sat' or 'no' are left out because they end sentences too.
_ABBREVIATIONS = """
mr mrs ms dr prof sr jr st mt vs etc e.g i.e cf al approx dept fig inc ltd corp
jan feb apr jun jul aug sep sept oct nov dec p.m a.m u.s u.k u.n ph.d m.d b.a m.a gov lt capt sgt
""".split()

_WORDS = re.compile(r"\w+")


@lru_cache(maxsize=1)
def _sentence_tokenizer() -> PunktSentenceTokenizer:
    params = PunktParameters()
    params.abbrev_types = set(_ABBREVIATIONS)
    return PunktSentenceTokenizer(params)


def _raw(pattern):
    """The compiled regex inside nltk's ReDoS wrapper: the same engine and pattern, without the
    per-call timeout bookkeeping that doubles the cost of nltk's own fixed patterns."""
    return getattr(pattern, "_rx", pattern)


# The Punkt steps below follow PunktSentenceTokenizer.span_tokenize of nltk 3.10.4 (pinned) line
# by line, for our parameters (abbreviations only: no collocations, sentence starters or
# orthographic statistics), calling nltk's own regexes directly and skipping its per-token
# objects; punkt's decision at each candidate break is remembered, as contexts recur.

_WHITESPACE = " \t\n\r\x0b\x0c"  # string.whitespace, what punkt looks for before a candidate


def _punkt_break(tok: PunktSentenceTokenizer, word: str, following: str) -> bool:
    """Whether punkt marks `word` (followed by `following`) as a sentence break: the first pass
    marks . ? ! and words ending in one period that are no abbreviation; the second pass, with no
    statistics, can only unmark initials and numbers before a lower-case word or punctuation."""
    if word in tok._lang_vars.sent_end_chars:
        return True  # '.' is no initial or number, so the second pass leaves it marked
    if not word.endswith(".") or word.endswith(".."):  # ellipses ("..", "...") included
        return False
    stem = word[:-1].lower()
    abbrev = tok._params.abbrev_types
    if stem in abbrev or stem.split("-")[-1] in abbrev:
        return False
    kind = _raw(PunktToken._RE_NUMERIC).sub("##number##", word.lower())
    kind = kind[:-1] if len(kind) > 1 and kind[-1] == "." else kind  # type_no_period
    initial = _raw(PunktToken._RE_INITIAL).match(word)
    if initial or kind == "##number##":
        if following in PunktSentenceTokenizer.PUNCTUATION or following[0].islower():
            return False  # the orthographic heuristic: this is no sentence start
        if initial and following[0].isupper():
            return False  # unknown, but an initial before a capital is taken as a name
    return True


@lru_cache(maxsize=1 << 16)
def _contains_sentbreak(context: str) -> bool:
    """text_contains_sentbreak: whether a token other than the last is a sentence break."""
    tok = _sentence_tokenizer()
    find = _raw(tok._lang_vars._word_tokenizer_re()).findall
    words = [w for line in context.split("\n") if line.strip() for w in find(line)]
    return any(_punkt_break(tok, w, following) for w, following in zip(words, words[1:]))


def _candidates(tok: PunktSentenceTokenizer, text: str) -> list:
    """_match_potential_end_contexts: (match, context) for each candidate break, the context
    being the word before it, the break and what follows; of two overlapping, the later."""
    found = []
    prev_match, prev_start, prev_stop = None, 0, 0
    for match in _raw(tok._lang_vars.period_context_re()).finditer(text):
        start = match.start()
        space = max(map(text[prev_stop:start].rfind, _WHITESPACE))
        word_start = space + prev_stop + 1 if space > 0 else prev_start  # punkt reads 0 as none
        if prev_match is not None and prev_stop <= word_start:
            found.append((prev_match, _context(text, prev_match, prev_start, prev_stop)))
        prev_match, prev_start, prev_stop = match, word_start, start
    if prev_match is not None:
        found.append((prev_match, _context(text, prev_match, prev_start, prev_stop)))
    return found


def _context(text: str, match, start: int, stop: int) -> str:
    """The word before a candidate break (text[start:stop]), the break and what follows it."""
    return text[start:stop] + match.group() + match.group("after_tok")


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    """_slices_from_text, then _realign_boundaries (closing quotes and brackets after a break
    go back onto the sentence they close)."""
    tok = _sentence_tokenizer()
    slices, last = [], 0
    for match, context in _candidates(tok, text):
        if _contains_sentbreak(context):
            slices.append((last, match.end()))
            last = match.start("next_tok") if match.group("next_tok") else match.end()
    slices.append((last, len(text.rstrip())))
    realign = _raw(tok._lang_vars.re_boundary_realignment).match
    spans, shift = [], 0
    for (start, stop), following in zip(slices, slices[1:] + [None]):
        start += shift
        moved = following and realign(text[following[0] : following[1]])
        if moved:
            spans.append((start, following[0] + len(moved.group(0).rstrip())))
            shift = moved.end()
        else:
            shift = 0
            if start < stop:  # text[start:stop] is not empty
                spans.append((start, stop))
    return spans


@lru_cache(maxsize=4096)
def sentences(value: str) -> tuple[str, ...]:
    """English sentences by the Punkt algorithm."""
    return tuple(value[start:stop] for start, stop in _sentence_spans(value))


def count_words(value: str) -> int:
    """Words are runs of word characters."""
    return len(_WORDS.findall(value))


_NON_ASCII = "non-ASCII"  # stands in a text's character set for any non-ASCII character


@dataclass(frozen=True)
class _Guard:
    """When a substitution can match: `check` on the text. `trigger` holds characters of which
    the text must have one first: a cheap set test that rules out most steps at once."""

    trigger: frozenset
    check: Callable[[str], bool]


def _any_of(*needles: str) -> _Guard:
    """The text contains one of `needles`."""
    return _Guard(frozenset(n[0] for n in needles), lambda text: any(n in text for n in needles))


def _word(word: str) -> _Guard:
    """A case-insensitive contraction; non-ASCII text always passes, as (?i) also matches some
    non-ASCII letters (the Kelvin sign for k, for one)."""
    return _Guard(
        frozenset((word[0], word[0].upper(), _NON_ASCII)),
        lambda text: not text.isascii() or word in text.lower(),
    )


_CONTRACTIONS = ("cannot", "gimme", "gonna", "gotta", "lemme", "wanna")  # the ones without '


def _clitics(text: str) -> bool:
    """Whether a step after the whitespace squeeze can match. If none can, skipping the squeeze
    changes no token either: it only turns whitespace into spaces, and tokens are split on
    whitespace (nltk's \\s is a subset of str.split's)."""
    return "'" in text or not text.isascii() or any(w in text.lower() for w in _CONTRACTIONS)


# What each NLTKWordTokenizer pattern (nltk 3.10.4) needs in the text to match, by pattern
# source; a pattern not listed always runs. Skipping a substitution that cannot match changes
# nothing, so the tokens stay nltk's while a typical sentence runs two or three regexes.
_GUARDS = {
    r"([«“‘„]|[`]+)": _any_of("«", "“", "‘", "„", "`"),
    r"^\"": _any_of('"'),
    r"([ \(\[{<])(\"|\'{2})": _any_of('"', "''"),
    r"(?i)(?<!\w)(\')(?!(?:re|ve|ll|m|t|s|d|n)\b)(?=\w)": _any_of("'"),
    r"""([^\.])(\.)([\]\)}>"\'»”’ ]*+)\s*$""": _any_of("."),
    r"([:,])([^\d])": _any_of(":", ","),
    # $ (no MULTILINE) matches at the very end or before a final newline.
    r"([:,])$": _Guard(frozenset(":,"), lambda text: text[-1:] in (":", ",") or text[-2:] in (":\n", ",\n")),
    r"\.{2,}": _any_of(".."),
    r"""([^\.])(\.)([\]\)}>"\']*)\s*$""": _any_of("."),
    r"([^'])' ": _any_of("' "),
    r"\s+": _Guard(
        frozenset(("'", _NON_ASCII, *(w[0] for w in _CONTRACTIONS), *(w[0].upper() for w in _CONTRACTIONS))),
        _clitics,
    ),
    r"([^' ])('[sS]|'[mM]|'[dD]|') ": _any_of("'"),
    r"([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ": _any_of("'"),
    r"(?i)\b(can)(?#X)(not)\b": _word("cannot"),
    r"(?i)\b(d)(?#X)('ye)\b": _any_of("'"),
    r"(?i)\b(gim)(?#X)(me)\b": _word("gimme"),
    r"(?i)\b(gon)(?#X)(na)\b": _word("gonna"),
    r"(?i)\b(got)(?#X)(ta)\b": _word("gotta"),
    r"(?i)\b(lem)(?#X)(me)\b": _word("lemme"),
    r"(?i)\b(more)(?#X)('n)\b": _any_of("'"),
    r"(?i)\b(wan)(?#X)(na)(?=\s)": _word("wanna"),
    r"(?i) ('t)(?#X)(is)\b": _any_of("'"),
    r"(?i) ('t)(?#X)(was)\b": _any_of("'"),
}


def _pad(chars: str) -> tuple[tuple[str, str], ...]:
    return tuple((c, f" {c} ") for c in chars)


# Substitutions of literal text, by (pattern source, replacement): str.replace of each literal
# in turn gives the same string (leftmost, non-overlapping; the spaces added match nothing later).
_PADDED = r" \g<0> "
_LITERAL = {
    (r"(``)", r" \1 "): (("``", " `` "),),
    (r"[;@#$%&]", _PADDED): _pad(";@#$%&"),
    (r"[\u2012-\u2015]", _PADDED): _pad("\u2012\u2013\u2014\u2015"),
    (r"[?!]", _PADDED): _pad("?!"),
    (r"[*]", _PADDED): _pad("*"),
    (r"[\]\[\(\)\{\}\<\>]", _PADDED): _pad("[](){}<>"),
    (r"--", r" -- "): (("--", " -- "),),
    (r"([»”’])", r" \1 "): _pad("»”’"),
    (r"''", " '' "): (("''", " '' "),),
    (r'"', " '' "): (('"', " '' "),),
}
_GROUP_REFERENCE = re.compile(r"\\g<\d+>|\\\d")


def _step(pattern, replacement: str) -> tuple:
    """(trigger characters or None for always, function of the text, characters it can add)
    for one substitution; besides the matched text, a replacement adds only its literal part."""
    inserted = frozenset(_GROUP_REFERENCE.sub("", replacement))
    pairs = _LITERAL.get((pattern.pattern, replacement))
    if pairs is not None:

        def replace(text: str) -> str:
            for old, new in pairs:
                text = text.replace(old, new)
            return text

        return frozenset(old[0] for old, _ in pairs), replace, inserted
    guard, sub = _GUARDS.get(pattern.pattern), _raw(pattern).sub
    if guard is None:
        return None, lambda text: sub(replacement, text), inserted
    return guard.trigger, lambda text: sub(replacement, text) if guard.check(text) else text, inserted


_NLTK = NLTKWordTokenizer
# NLTKWordTokenizer.tokenize with convert_parentheses off: these steps, pad with spaces, the
# steps after, split.
_BEFORE_PAD = tuple(
    _step(p, r)
    for p, r in [*_NLTK.STARTING_QUOTES, *_NLTK.PUNCTUATION, _NLTK.PARENS_BRACKETS, _NLTK.DOUBLE_DASHES]
)
_CONTRACTION_STEPS = [(p, r" \1 \2 ") for p in _NLTK.CONTRACTIONS2 + _NLTK.CONTRACTIONS3]
_AFTER_PAD = tuple(_step(p, r) for p, r in [*_NLTK.ENDING_QUOTES, *_CONTRACTION_STEPS])


def _run(steps: tuple, text: str, present: set) -> str:
    """Apply the steps whose trigger meets `present` (a superset of the text's characters)."""
    for trigger, step, inserted in steps:
        if trigger is None or not present.isdisjoint(trigger):
            new = step(text)
            if new is not text:
                text = new
                present |= inserted
    return text


_TRIGGERS = frozenset().union(*(t for t, _, _ in _BEFORE_PAD + _AFTER_PAD if t is not None))


@lru_cache(maxsize=1 << 13)
def _plan(present: frozenset) -> tuple[tuple, tuple]:
    """The steps before and after padding that a text with these trigger characters needs."""

    def needed(steps):
        return tuple(step for trigger, step, _ in steps if trigger is None or not present.isdisjoint(trigger))

    return needed(_BEFORE_PAD), needed(_AFTER_PAD)


@lru_cache(maxsize=1 << 14)
def _treebank(sentence: str) -> tuple[str, ...]:
    """NLTKWordTokenizer().tokenize(sentence), exactly, without the substitutions that cannot match."""
    present = set(sentence)
    if not sentence.isascii():
        present.add(_NON_ASCII)
    if '"' in present:  # quotes become `` and '', which can wake up later steps
        sentence = " " + _run(_BEFORE_PAD, sentence, present) + " "
        return tuple(_run(_AFTER_PAD, sentence, present).split())
    # Otherwise the only trigger characters a step adds (` and ') come with " or with '' (and
    # so ' is there already): the steps needed are known from the start.
    before, after = _plan(frozenset(present & _TRIGGERS))
    for step in before:
        sentence = step(sentence)
    sentence = " " + sentence + " "
    for step in after:
        sentence = step(sentence)
    return tuple(sentence.split())


@lru_cache(maxsize=4096)
def word_tokens(value: str) -> tuple[str, ...]:
    """Treebank-style word tokens, sentence by sentence."""
    return tuple(t for s in sentences(value) for t in _treebank(s))


@lru_cache(maxsize=4096)
def language(value: str) -> str | None:
    """ISO 639-1 code of the detected language, or None when detection fails."""
    # langdetect's answer with its seed fixed at 0 (langdetect is randomised; a fixed seed makes
    # verdicts repeatable), computed by langid ~10x faster with the same result for every text.
    try:
        return langid.detect(value, seed=0)
    except LangDetectException:
        return None
