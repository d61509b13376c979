"""Text measures shared by the checkers: sentences, words, tokens and language."""

import re
from functools import lru_cache

from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

# Abbreviations that end with a period but rarely end a sentence (lower case, no final period);
# words such as 'sun', 'sat' or 'no' are left out because they end sentences too. NLTK's trained
# English Punkt model is a download, so these stand in for it.
ABBREVIATIONS = frozenset(
    """
mr mrs ms dr prof sr jr st mt vs etc e.g i.e cf al approx dept fig inc ltd corp
jan feb apr jun jul aug sep sept oct nov dec p.m a.m u.s u.k u.n ph.d m.d b.a m.a gov lt capt sgt
""".split()
)

_WORDS = re.compile(r"\w+")


# nltk is imported where first used: loading it takes about 2 s on 2 cores (it pulls in scipy), which
# every process importing the rules (the app's first page) would otherwise pay before any check.
@lru_cache(maxsize=1)
def _sentence_tokenizer():
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

    params = PunktParameters()
    params.abbrev_types = set(ABBREVIATIONS)
    return PunktSentenceTokenizer(params)


@lru_cache(maxsize=1)
def _word_tokenizer():
    from nltk.tokenize import NLTKWordTokenizer

    return NLTKWordTokenizer()


@lru_cache(maxsize=1)
def _detector_factory() -> DetectorFactory:
    """langdetect's profiles, loaded once, with the seed fixed at 0 so that verdicts repeat."""
    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.seed = 0  # langdetect draws n-grams at random
    return factory


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
    tokenize = _word_tokenizer().tokenize
    return tuple(t for s in sentences(value) for t in tokenize(s))


@lru_cache(maxsize=4096)
def language(value: str) -> str | None:
    """ISO 639-1 code of the detected language, or None when detection fails."""
    detector = _detector_factory().create()
    detector.append(value)
    try:
        return detector.detect()
    except LangDetectException:
        return None
