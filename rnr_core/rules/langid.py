"""langdetect's language identification, exactly, at a fraction of its cost.

langdetect (1.0.9) spends 5-10 ms per text in pure-Python loops: a method call per character to
build n-grams, then for every randomly drawn n-gram a 55-language multiply loop. This module
computes the same numbers with cached per-word n-grams and numpy:

- floating point in langdetect's order: element-wise products and quotients are IEEE-exact in
  numpy as in Python, each block of five updates is one `np.multiply.reduce` (numpy multiplies
  row after row; it is only sums that it takes pairwise) and sums use Python's `sum` as
  langdetect does;
- the same random draws: langdetect seeds a `random.Random` per text, then calls `gauss` once per
  trial and `choice` once per update. `_Stream` replays that generator's 32-bit words (Python
  and numpy share MT19937) so that a trial's draws can be made in bulk.

A self-check at first use (the draws against `random.Random`, the order of numpy's products)
falls back to langdetect itself should either ever differ.

So every probability is bit-for-bit langdetect's and `detect` returns the same code for every
text. Profiles are langdetect's own files; its text normalisers are reused as they are.
"""

import math
import os
import random
import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, islice

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
_SPACES = re.compile("  +")  # runs of two or more: a lone space stays as it is anyway
_CHUNK = 10  # blocks of updates drawn and gathered at once; doubled for each further chunk


@dataclass(frozen=True)
class Profiles:
    """langdetect's word_lang_prob_map as one array, plus the language order."""

    langs: tuple[str, ...]
    index: dict[str, int]  # 1- to 3-gram -> row of `probs`
    probs: np.ndarray  # (n-grams, languages): count / n-grams of that length in the language


def _profile_files() -> list[str]:
    """langdetect's file order (os.listdir), which fixes the language order and so the sums."""
    names = [n for n in os.listdir(PROFILES_DIRECTORY) if not n.startswith(".")]
    paths = [os.path.join(PROFILES_DIRECTORY, n) for n in names]
    return [p for p in paths if os.path.isfile(p)]


def _usable(gram: str) -> bool:
    """Whether langdetect ever looks the key up: it extracts 1- to 3-grams and skips " "."""
    return 1 <= len(gram) <= NGram.N_GRAM and gram != " "


@lru_cache(maxsize=1)
def profiles() -> Profiles:
    """Load the 55 profiles once (~0.2 s and 39 MB; langdetect's own loader takes ~0.4 s)."""
    data = []
    for path in _profile_files():
        with open(path, "rb") as fh:
            data.append(orjson.loads(fh.read()))
    grams = dict.fromkeys(chain.from_iterable(p["freq"] for p in data))  # first-seen order
    # langdetect's files hold only keys it looks up; any other would be filtered out.
    usable = " " not in grams and set(map(len, grams)) <= set(range(1, NGram.N_GRAM + 1))
    if not usable:
        grams = dict.fromkeys(filter(_usable, grams))
    index = dict(zip(grams, range(len(grams))))
    cells, values = [], []  # flat positions in the (n-grams, languages) array, and their values
    for k, profile in enumerate(data):
        freq = profile["freq"] if usable else {g: f for g, f in profile["freq"].items() if g in index}
        rows = np.fromiter(map(index.__getitem__, freq), dtype=np.intp, count=len(freq))
        sizes = np.fromiter(map(len, freq), dtype=np.intp, count=len(freq)) - 1
        counts = np.fromiter(freq.values(), dtype=np.float64, count=len(freq))
        cells.append(rows * len(data) + k)
        # float64 holds these integer counts exactly, so this is langdetect's 1.0 * f / n.
        values.append(counts / np.array(profile["n_words"], dtype=np.float64)[sizes])
    probs = np.zeros((len(index), len(data)))
    probs.ravel()[np.concatenate(cells)] = np.concatenate(values)
    return Profiles(tuple(p["name"] for p in data), index, probs)


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
    text = _SPACES.sub(" ", text[: _DEFAULTS.max_text_length])
    if not text.isascii() and _mostly_non_latin(text):
        text = _LATIN.sub("", text)
    return text


def _mostly_non_latin(text: str) -> bool:
    """langdetect's latin_count * 2 < non_latin_count, counting Latin letters only as far as needed."""
    non_latin = len(_NON_LATIN.findall(text))
    latin = sum(1 for _ in islice(_LATIN.finditer(text), non_latin // 2 + 1))
    return latin * 2 < non_latin


class _CharMap(dict):
    """ord -> NGram.normalize(chr), filled on first sight; str.translate calls __missing__."""

    def __missing__(self, code: int) -> str:
        value = self[code] = NGram.normalize(chr(code))
        return value


_CHARS = _CharMap()


def _word_ngrams(word: str) -> tuple[int, ...]:
    """Rows of the known 1-3-grams NGram yields for one word (with its following space, if any).

    NGram starts each word from ' ', keeps the last three characters and yields nothing at a
    character where it and the one before are both upper case.
    """
    padded = " " + word
    size = len(padded)
    if any(map(str.isupper, word[1:])):  # else no two capitals meet
        ends = [j for j in range(1, size) if not (padded[j].isupper() and padded[j - 1].isupper())]
    else:
        ends = range(1, size)
    grams = []
    add = grams.append
    for j in ends:  # the 1-, 2- and 3-gram ending at j, in NGram's order
        add(padded[j])
        add(padded[j - 1 : j + 1])
        if j > 1:
            add(padded[j - 2 : j + 1])
    # The index has no " " (langdetect skips that unigram), so unknown grams are all None here.
    return tuple(row for row in map(profiles().index.get, grams) if row is not None)


class _WordCache(dict):
    """word -> _word_ngrams(word + tail), computed on first sight; cleared when it grows large."""

    def __init__(self, tail: str):
        super().__init__()
        self.tail = tail

    def __missing__(self, word: str) -> tuple[int, ...]:
        if len(self) >= 1 << 17:
            self.clear()
        value = self[word] = _word_ngrams(word + self.tail)
        return value


_SPACED, _LAST = _WordCache(" "), _WordCache("")  # words followed by a space; the last word


def ngram_rows(text: str) -> list[int]:
    """Detector._extract_ngrams of the cleaned text, as rows of `profiles().probs`, in order."""
    words = _clean(text).translate(_CHARS).split(" ")
    last = words.pop()
    # filter(None, ...): an empty word (between two spaces) yields nothing.
    rows = list(chain.from_iterable(map(_SPACED.__getitem__, filter(None, words))))
    if last:
        rows.extend(_LAST[last])
    return rows


_WORDS: dict[int, np.ndarray] = {}  # seed -> the first outputs of random.Random(seed)


def _seed_words(seed: int, size: int) -> np.ndarray:
    """At least `size` 32-bit outputs of random.Random(seed): every text replays the same ones."""
    words = _WORDS.get(seed)
    if words is None or len(words) < size:
        state = random.Random(seed).getstate()[1]
        gen = np.random.MT19937()
        gen.state = {
            "bit_generator": "MT19937",
            "state": {"key": np.array(state[:-1], dtype=np.uint32), "pos": state[-1]},
        }
        # 16 Ki outputs cover 7 trials of 1001 draws unless nearly half of them are refused.
        words = _WORDS[seed] = gen.random_raw(max(1 << 14, 2 * size))
    return words


class _Stream:
    """random.Random(seed) as langdetect uses it on one text: gauss() at each trial, then
    choice() among n n-grams at each update; the choices are read in bulk."""

    def __init__(self, seed: int, n: int):
        self._seed, self._n = seed, n
        self._pos = 0  # outputs used so far
        self._gauss_next = None
        self._accept(1 << 11)  # enough for 7 trials of ~60 updates, the usual case

    def _accept(self, size: int) -> None:
        """Which of the first `size` outputs choice() keeps, and the results they give.

        choice draws getrandbits(n.bit_length()), the top bits of one output, until it is < n.
        """
        self._size = size
        values = _seed_words(self._seed, size)[:size] >> (32 - self._n.bit_length())
        kept = np.flatnonzero(values < self._n)
        self._kept, self._values = kept.tolist(), values[kept].tolist()  # lists: sliced per chunk

    def skip(self, picks: int) -> None:
        """Use up the outputs of the next `picks` results of choice()."""
        self._pos = self._kept[bisect_left(self._kept, self._pos) + picks - 1] + 1

    def random(self) -> float:
        """random.Random.random: 53 bits from two outputs."""
        first, second = _seed_words(self._seed, self._pos + 2)[self._pos : self._pos + 2].tolist()
        self._pos += 2
        return ((first >> 5) * 67108864.0 + (second >> 6)) * (1.0 / 9007199254740992.0)

    def gauss(self, mu: float = 0.0, sigma: float = 1.0) -> float:
        """random.Random.gauss: Box-Muller, the second value kept for the next call."""
        z, self._gauss_next = self._gauss_next, None
        if z is None:
            x2pi = self.random() * (2.0 * math.pi)
            g2rad = math.sqrt(-2.0 * math.log(1.0 - self.random()))
            z = math.cos(x2pi) * g2rad
            self._gauss_next = math.sin(x2pi) * g2rad
        return mu + z * sigma

    def below(self, count: int) -> list[int]:
        """The next `count` results of choice(), without using them up (see skip)."""
        first = bisect_left(self._kept, self._pos)
        while first + count > len(self._kept):
            self._accept(2 * self._size)
        return self._values[first : first + count]


def _products_in_order() -> bool:
    """Whether np.multiply.reduce over axis 0 multiplies row after row, as langdetect does (it
    does: numpy sums pairwise, but multiplies in order); checked on awkward random numbers."""
    rng = np.random.default_rng(0)
    out = np.empty(55)
    for _ in range(20):
        rows = rng.random((6, 55)) ** rng.integers(1, 60, (6, 55))
        expected = rows[0].copy()
        for row in rows[1:]:
            expected *= row
        if np.multiply.reduce(rows, 0, None, out).tobytes() != expected.tobytes():
            return False
    return True


@lru_cache(maxsize=8)
def _is_exact(seed: int) -> bool:
    """Whether _Stream(seed, n) draws what random.Random(seed) does on this Python, and numpy
    multiplies in langdetect's order."""
    for n in (1, 2, 3, 5, 7, 64, 65, 1000, 4097, 30000):
        real, ours = random.Random(seed), _Stream(seed, n)
        for count, used in ((40, 40), (40, 7), (3000, 1), (40, 40)):  # also part of a batch
            if real.gauss(0.0, 1.0).hex() != ours.gauss().hex():
                return False
            if ours.below(count)[:used] != [real.choice(range(n)) for _ in range(used)]:
                return False
            ours.skip(used)
    return _products_in_order()


def _normalised(prob: np.ndarray, out: np.ndarray) -> bool:
    """langdetect's _normalize_prob of `prob` into `out`; whether a language passes CONV_THRESHOLD."""
    values = prob.tolist()
    total = sum(values)  # Python's sum, as langdetect: numpy's pairwise sum rounds differently
    np.divide(prob, total, out=out)
    # Dividing by a positive number keeps the order, so this is the largest quotient exactly.
    return max(values) / total > Detector.CONV_THRESHOLD


def _trial(stream: _Stream, probs: np.ndarray, rows: list[int], weight: float) -> np.ndarray:
    """One trial of Detector._detect_block: random n-gram updates, normalised after update 0
    and after every 5th, until one language passes CONV_THRESHOLD or ITERATION_LIMIT is reached.

    After update 0, updates come in chunks of blocks: chunk[b, 0] holds the probabilities before
    block b and chunk[b, 1:] its five n-gram rows plus weight, so one multiply.reduce gives
    ((p * r1) * r2) * ... as langdetect's loop does.
    """
    n_langs, limit = probs.shape[1], Detector.ITERATION_LIMIT
    prob = (probs[rows[stream.below(1)[0]]] + weight) * (1.0 / n_langs)  # update 0
    stream.skip(1)
    if _normalised(prob, prob) or limit <= 0:
        return prob
    last, blocks = 0, _CHUNK  # last: the number of the latest update
    while True:
        picks = stream.below(5 * blocks)
        chunk = np.empty((blocks + 1, 6, n_langs))
        chunk[0, 0] = prob
        gathered = np.take(probs, [rows[p] for p in picks], axis=0).reshape(blocks, 5, n_langs)
        np.add(gathered, weight, out=chunk[:blocks, 1:])
        product = np.empty(n_langs)
        for b in range(blocks):
            np.multiply.reduce(chunk[b], 0, None, product)
            last += 5
            if _normalised(product, chunk[b + 1, 0]) or last >= limit:
                stream.skip(5 * (b + 1))
                return chunk[b + 1, 0]
        stream.skip(5 * blocks)
        prob = chunk[blocks, 0]
        blocks = min(2 * blocks, limit // 5 + 1)  # few, larger chunks when a trial runs long


def _langdetect_probabilities(text: str, seed: int) -> np.ndarray:
    """langdetect itself (slow); used only if _Stream cannot follow this Python's random."""
    from langdetect import detector_factory

    detector_factory.init_factory()
    detector = detector_factory._factory.create()
    detector.seed = seed
    detector.append(text)
    detector.get_probabilities()
    return np.array(detector.langprob)


def probabilities(text: str, seed: int = 0) -> np.ndarray:
    """Detector._detect_block's langprob for `text` (in `profiles().langs` order), bit for bit."""
    if not _is_exact(seed):
        return _langdetect_probabilities(text, seed)
    rows = ngram_rows(text)
    if not rows:
        raise LangDetectException(ErrorCode.CantDetectError, "No features in text.")
    probs = profiles().probs
    stream = _Stream(seed, len(rows))
    langprob = np.zeros(probs.shape[1])
    for _ in range(_DEFAULTS.n_trial):
        alpha = _DEFAULTS.alpha + stream.gauss(0.0, 1.0) * Detector.ALPHA_WIDTH
        langprob += _trial(stream, probs, rows, alpha / Detector.BASE_FREQ) / _DEFAULTS.n_trial
    return langprob


def detect(text: str, seed: int = 0) -> str:
    """langdetect.detect(text) with DetectorFactory.seed = seed: the most probable language code."""
    best, best_p = Detector.UNKNOWN_LANG, Detector.PROB_THRESHOLD
    for lang, p in zip(profiles().langs, probabilities(text, seed).tolist()):
        if p > best_p:  # strict: the first of equal maxima wins, as in langdetect's stable sort
            best, best_p = lang, p
    return best
