"""Text measures shared by the checkers: sentences, words, tokens and language."""

import re
from functools import lru_cache

from langdetect import DetectorFactory, detect
from langdetect.lang_detect_exception import LangDetectException
from nltk.tokenize import NLTKWordTokenizer
from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

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


_word_tokenizer = NLTKWordTokenizer()


@lru_cache(maxsize=4096)
def sentences(value: str) -> tuple[str, ...]:
    """English sentences by the Punkt algorithm."""
    return tuple(_sentence_tokenizer().tokenize(value))


def count_words(value: str) -> int:
    """Words are runs of word characters."""
    return len(_WORDS.findall(value))


@lru_cache(maxsize=4096)
def word_tokens(value: str) -> tuple[str, ...]:
    """Treebank-style word tokens, sentence by sentence."""
    return tuple(t for s in sentences(value) for t in _word_tokenizer.tokenize(s))


DetectorFactory.seed = 0  # langdetect is randomised; a fixed seed makes verdicts repeatable


@lru_cache(maxsize=4096)
def language(value: str) -> str | None:
    """ISO 639-1 code of the detected language, or None when detection fails."""
    try:
        return detect(value)
    except LangDetectException:
        return None
