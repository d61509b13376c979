"""The text measures give the sentences, tokens and languages that NLTK and langdetect give."""

import json
from collections import Counter

import pytest
from langdetect import DetectorFactory

from rnr_core.rules import text

# text -> (sentences, word tokens, count_words), as NLTK's Punkt (with the built-in abbreviations)
# and Treebank tokenizers split them.
KNOWN_SPLITS = {
    "The quick brown fox jumps over the lazy dog. It was not amused!": (
        ["The quick brown fox jumps over the lazy dog.", "It was not amused!"],
        "The quick brown fox jumps over the lazy dog . It was not amused !",
        13,
    ),
    '"Quoted," she said. "Really?" (Yes.) Mr. Jones left at 5 p.m. -- then 1. First 2. Second': (
        [
            '"Quoted," she said.',
            '"Really?"',
            "(Yes.)",
            "Mr. Jones left at 5 p.m. -- then 1.",
            "First 2.",
            "Second",
        ],
        "`` Quoted , '' she said . `` Really ? '' ( Yes . ) "
        "Mr. Jones left at 5 p.m. -- then 1 . First 2 . Second",
        17,
    ),
    "Wait... what? No. The U.S. economy, e.g. jobs, grew 2.5% in Jan. and Feb. this year.": (
        ["Wait... what?", "No.", "The U.S. economy, e.g. jobs, grew 2.5% in Jan. and Feb. this year."],
        "Wait ... what ? No . The U.S. economy , e.g. jobs , grew 2.5 % in Jan. and Feb. this year .",
        19,
    ),
    "I can't go. She'll come, won't she? Dr. Smith, Ph.D., said \"maybe.\"": (
        ["I can't go.", "She'll come, won't she?", 'Dr. Smith, Ph.D., said "maybe."'],
        "I ca n't go . She 'll come , wo n't she ? Dr. Smith , Ph.D. , said `` maybe . ''",
        16,
    ),
    "J. R. R. Tolkien wrote it. It sold well.\n\n* one\n* two": (
        ["J. R. R. Tolkien wrote it.", "It sold well.", "* one\n* two"],
        "J. R. R. Tolkien wrote it . It sold well . * one * two",
        11,
    ),
    "ALL CAPS ENGLISH TEXT ABOUT DR. SMITH AND THE U.S. ECONOMY, DON'T YOU THINK?": (
        ["ALL CAPS ENGLISH TEXT ABOUT DR. SMITH AND THE U.S. ECONOMY, DON'T YOU THINK?"],
        "ALL CAPS ENGLISH TEXT ABOUT DR. SMITH AND THE U.S. ECONOMY , DO N'T YOU THINK ?",
        16,
    ),
}

FRENCH = "Ceci est un petit texte en français, écrit pour vérifier la détection."
# text -> langdetect's answer with seed 0; upper-case Romance text is one it gets wrong.
KNOWN_LANGUAGES = {
    FRENCH: "fr",
    FRENCH.upper(): "ca",
    "Dies ist ein kurzer deutscher Text über das Wetter in Berlin.": "de",
    "Este es un texto corto en español sobre la comida y la música.": "es",
    "ESTE ES UN TEXTO CORTO EN ESPAÑOL SOBRE LA COMIDA Y LA MÚSICA.": "pt",
    "Questo è un breve testo italiano sul mare e sulle montagne.": "it",
    "QUESTO È UN BREVE TESTO ITALIANO SUL MARE E SULLE MONTAGNE.": "so",
    "Привет! Это короткий текст на русском языке о погоде.": "ru",
    "これは日本語の短い文章です。天気についての話です。": "ja",
    "हिंदी में यह एक छोटा सा वाक्य है।": "hi",
    "مرحبا، هذا نص قصير باللغة العربية.": "ar",
    "Tiếng Việt là ngôn ngữ chính thức của Việt Nam.": "vi",
    "mixed English text avec un peu de français und etwas Deutsch.": "fr",
    "The quick brown fox jumps over the lazy dog. It was not amused!": "en",
}


@pytest.mark.parametrize("value", list(KNOWN_SPLITS))
def test_sentences_words_and_tokens(value):
    expected_sentences, expected_tokens, expected_words = KNOWN_SPLITS[value]
    assert list(text.sentences(value)) == expected_sentences
    assert list(text.word_tokens(value)) == expected_tokens.split(" ")
    assert text.count_words(value) == expected_words


@pytest.mark.parametrize("abbreviation", sorted(text.ABBREVIATIONS))
def test_abbreviations_do_not_end_a_sentence(abbreviation):
    assert len(text.sentences(f"I met {abbreviation}. Smith there.")) == 1


@pytest.mark.parametrize("word", ["sat", "sun", "no", "it"])
def test_other_words_before_a_period_end_a_sentence(word):
    assert len(text.sentences(f"We {word}. Then we left.")) == 2


@pytest.mark.parametrize("value", list(KNOWN_LANGUAGES))
def test_language(value):
    assert text.language(value) == KNOWN_LANGUAGES[value]


@pytest.mark.parametrize("value", ["12345 !!!", "", "   "])
def test_language_of_text_without_features_is_none(value):
    assert text.language(value) is None


def test_language_ignores_langdetects_global_seed(monkeypatch):
    # With DetectorFactory.seed = 1, langdetect.detect calls the upper-case French text 'de'.
    monkeypatch.setattr(DetectorFactory, "seed", 1)
    text.language.cache_clear()
    assert text.language(FRENCH.upper()) == "ca"


def test_language_repeats():
    answers = set()
    for _ in range(3):
        text.language.cache_clear()
        answers.add(text.language(FRENCH.upper()))
    assert answers == {"ca"}


def test_shared_responses_known_totals(shared_data):
    path = shared_data / "ifeval" / "responses_gpt4.jsonl"
    values = [json.loads(line)["response"] for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(values) == 540
    assert sum(len(text.sentences(v)) for v in values) == 6897
    assert sum(len(text.word_tokens(v)) for v in values) == 130924
    assert sum(map(text.count_words, values)) == 110428
    languages = Counter(map(text.language, values))
    assert languages["en"] == 496
    assert (languages["de"], languages["hi"], languages[None]) == (6, 4, 1)
    assert len(languages) == 30
