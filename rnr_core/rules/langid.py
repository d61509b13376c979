"""langdetect's language identification, exactly, at a fraction of its cost.

langdetect (1.0.9) spends ~10 ms per text in pure-Python loops: one call per character to build
n-grams, and per random n-gram a 55-language multiply loop. This module computes the same thing
with cached per-word n-grams and numpy vectors, in the same floating-point order (element-wise
products and divisions are IEEE-exact in numpy too; sums are taken with Python's `sum` as
langdetect does) and with the same `random.Random` call sequence (seed, gauss, choice). So every
probability is bit-for-bit langdetect's and `detect` returns the same code for every text.
It reads langdetect's own profile files and reuses its text normalisers.
"""

import os
import random
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import orjson
from langdetect.detector import Detector
from langdetect.detector_factory import PROFILES_DIRECTORY
from langdetect.lang_detect_exception import ErrorCode, LangDetectException
from langdetect.utils.ngram import NGram

_LATIN = re.compile("[A-z]")  # langdetect's test 'A' <= ch <= 'z' (includes [\]^_`)
# langdetect means to skip Latin Extended Additional here, but compares a block number with a
# block name, so every character from U+0300 up counts as non-Latin.
_NON_LATIN = re.compile("[\u0300-\U0010ffff]")
_SPACES = re.compile(" +")


@dataclass(frozen=True)
class Profiles:
    """langdetect's profiles as arrays: n-gram counts per language and the totals they divide by."""

    langs: tuple[str, ...]
    index: dict[str, int]  # n-gram -> row of `counts`
    counts: np.ndarray  # (n-grams, languages) integer counts
    sizes: np.ndarray  # (n-grams,) n-gram length - 1, to pick the row of `totals`
    totals: np.ndarray  # (3, languages) n-grams of each length per language, as float


def _profile_files() -> list[str]:
    """langdetect's file order (os.listdir), which fixes the language order and so the sums."""
    names = [n for n in os.listdir(PROFILES_DIRECTORY) if not n.startswith(".")]
    paths = [os.path.join(PROFILES_DIRECTORY, n) for n in names]
    return [p for p in paths if os.path.isfile(p)]


@lru_cache(maxsize=1)
def profiles() -> Profiles:
    """Load the 55 profiles once (~0.1 s; langdetect's own loader takes ~0.4 s)."""
    data = []
    for path in _profile_files():
        with open(path, "rb") as fh:
            data.append(orjson.loads(fh.read()))
    index: dict[str, int] = {}
    for profile in data:
        for gram in profile["freq"]:
            if 1 <= len(gram) <= NGram.N_GRAM:  # longer keys can never match an extracted n-gram
                index.setdefault(gram, len(index))
    top = max((max(p["freq"].values(), default=0) for p in data), default=0)
    counts = np.zeros((len(index), len(data)), dtype=np.int32 if top < 2**31 else np.int64)
    for k, profile in enumerate(data):
        grams = [g for g in profile["freq"] if g in index]
        counts[[index[g] for g in grams], k] = [profile["freq"][g] for g in grams]
    sizes = np.fromiter((len(g) - 1 for g in index), dtype=np.intp, count=len(index))
    totals = np.array([p["n_words"] for p in data], dtype=np.float64).T
    totals[totals == 0] = 1.0  # only ever divides a zero count there (langdetect never divides)
    return Profiles(tuple(p["name"] for p in data), index, counts, sizes, totals)


class _NoFactory:
    """Just enough of a DetectorFactory to read a Detector's default settings."""

    word_lang_prob_map: dict = {}
    langlist: list = []
    seed = None


_DEFAULTS = Detector(_NoFactory)  # n_trial, alpha, max_text_length are set per instance


def _clean(text: str) -> str:
    """Detector.append + cleaning_text: drop URLs and e-mails, cut, squeeze spaces, maybe drop Latin."""
    # The guards only skip substitutions that cannot match (the e-mail pattern is slow to fail).
    if "http" in text:
        text = Detector.URL_RE.sub(" ", text)
    if "@" in text:
        text = Detector.MAIL_RE.sub(" ", text)
    if not text.isascii():  # Vietnamese diacritical marks are not ASCII
        text = NGram.normalize_vi(text)
    text = _SPACES.sub(" ", text[:_DEFAULTS.max_text_length])
    if not text.isascii() and len(_LATIN.findall(text)) * 2 < len(_NON_LATIN.findall(text)):
        text = _LATIN.sub("", text)
    return text


class _CharMap(dict):
    """ord -> NGram.normalize(chr), filled on first sight; str.translate calls __missing__."""

    def __missing__(self, code: int) -> str:
        value = self[code] = NGram.normalize(chr(code))
        return value


_CHARS = _CharMap()


@lru_cache(maxsize=1 << 16)
def _word_ngrams(word: str) -> tuple[int, ...]:
    """Rows of the known 1-3-grams NGram yields for one word (with its following space, if any).

    NGram starts each word from ' ', keeps the last three characters and yields nothing at a
    character where it and the one before are both upper case.
    """
    index = profiles().index
    padded = " " + word
    found = []
    for j in range(1, len(padded)):
        if padded[j].isupper() and padded[j - 1].isupper():
            continue
        for n in range(1, min(NGram.N_GRAM, j + 1) + 1):
            gram = padded[j - n + 1:j + 1]
            row = index.get(gram) if gram != " " else None
            if row is not None:
                found.append(row)
    return tuple(found)


def ngram_rows(text: str) -> list[int]:
    """Detector._extract_ngrams of the cleaned text, as rows of the profile arrays, in order."""
    words = _clean(text).translate(_CHARS).split(" ")
    rows: list[int] = []
    for word in words[:-1]:
        if word:  # an empty word between two spaces yields nothing
            rows.extend(_word_ngrams(word + " "))
    if words[-1]:
        rows.extend(_word_ngrams(words[-1]))
    return rows


def _trial(table: np.ndarray, picks: list[int], rnd: random.Random) -> np.ndarray:
    """One of Detector._detect_block's trials: random n-gram updates, normalised every 5.

    The last row of `table` holds the current probabilities, so that one gather brings them
    and the next n-gram rows together and one multiply.accumulate applies the updates in
    langdetect's order (((p * r1) * r2) * ...).
    """
    choice = rnd.choice
    here = len(table) - 1
    table[here] = 1.0 / table.shape[1]
    step, i = 1, 0  # langdetect normalises after update 0, then after every 5th
    while True:
        block = table[[here] + [choice(picks) for _ in range(step)]]
        np.multiply.accumulate(block, axis=0, out=block)
        values = block[step].tolist()
        total = sum(values)  # Python's sum, as langdetect: numpy's pairwise sum rounds differently
        np.divide(block[step], total, out=table[here])
        # Dividing by a positive number keeps the order, so this is the largest quotient exactly.
        if max(values) / total > Detector.CONV_THRESHOLD or i >= Detector.ITERATION_LIMIT:
            return table[here]
        i += 5
        step = 5


def probabilities(text: str, seed: int = 0) -> np.ndarray:
    """Detector._detect_block's langprob for `text` (in `profiles().langs` order), bit for bit."""
    rows = ngram_rows(text)
    if not rows:
        raise LangDetectException(ErrorCode.CantDetectError, "No features in text.")
    prof = profiles()
    unique, picks = np.unique(np.array(rows), return_inverse=True)
    local = prof.counts[unique] / prof.totals[prof.sizes[unique]]
    table = np.empty((len(unique) + 1, len(prof.langs)))  # + 1: the row _trial works in
    langprob = np.zeros(len(prof.langs))
    rnd = random.Random(seed)
    picks = picks.tolist()
    for _ in range(_DEFAULTS.n_trial):
        alpha = _DEFAULTS.alpha + rnd.gauss(0.0, 1.0) * Detector.ALPHA_WIDTH
        np.add(local, alpha / Detector.BASE_FREQ, out=table[:-1])
        langprob += _trial(table, picks, rnd) / _DEFAULTS.n_trial
    return langprob


def detect(text: str, seed: int = 0) -> str:
    """langdetect.detect(text) with DetectorFactory.seed = seed: the most probable language code."""
    best, best_p = Detector.UNKNOWN_LANG, Detector.PROB_THRESHOLD
    for lang, p in zip(profiles().langs, probabilities(text, seed).tolist()):
        if p > best_p:  # strict: the first of equal maxima wins, as in langdetect's stable sort
            best, best_p = lang, p
    return best
