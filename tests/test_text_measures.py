"""The fast text measures give exactly what langdetect and NLTK give on the same text."""

import json
import random

import pytest
from langdetect import DetectorFactory, detect
from langdetect.lang_detect_exception import LangDetectException
from nltk.tokenize import NLTKWordTokenizer
from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

from rnr_core.rules import langid, text

SAMPLES = [
    "The quick brown fox jumps over the lazy dog. It was not amused!",
    "Ceci est un petit texte en français, écrit pour vérifier la détection.",
    "Dies ist ein kurzer deutscher Text über das Wetter in Berlin.",
    "Este es un texto corto en español sobre la comida y la música.",
    "Questo è un breve testo italiano sul mare e sulle montagne.",
    "Привет! Это короткий текст на русском языке о погоде.",
    "これは日本語の短い文章です。天気についての話です。",
    "这是一个关于天气的简短中文句子。",
    "हिंदी में यह एक छोटा सा वाक्य है।",
    "مرحبا، هذا نص قصير باللغة العربية.",
    "ALL CAPS ENGLISH TEXT ABOUT DR. SMITH AND THE U.S. ECONOMY, DON'T YOU THINK?",
    "mixed English text avec un peu de français und etwas Deutsch.",
    "Visit https://example.com or mail a.b@example.org for more.\n\n* one\n* two",
    '"Quoted," she said. "Really?" (Yes.) Mr. Jones left at 5 p.m. -- then 1. First 2. Second',
    "12345 67890",
    "Tiếng Việt là ngôn ngữ chính thức của Việt Nam.",
]


def reference_language(value):
    DetectorFactory.seed = 0
    try:
        return detect(value)
    except LangDetectException:
        return None


def variants(value):
    rng = random.Random(len(value))
    words = value.split()
    return [
        value,
        value.lower(),
        value.upper(),
        value * 3,
        value[: len(value) // 2],
        " ".join(rng.sample(words, len(words))),
    ]


def reference_punkt():
    params = PunktParameters()
    params.abbrev_types = set(text._ABBREVIATIONS)
    return PunktSentenceTokenizer(params)


@pytest.mark.parametrize("value", [v for s in SAMPLES for v in variants(s)])
def test_language_matches_langdetect(value):
    assert text.language(value) == reference_language(value)


def test_language_of_text_without_features_is_none():
    assert text.language("12345 !!!") is None
    with pytest.raises(LangDetectException):
        langid.detect("12345 !!!")


@pytest.mark.parametrize("value", [v for s in SAMPLES for v in variants(s)])
def test_sentences_and_tokens_match_nltk(value):
    expected = reference_punkt().tokenize(value)
    assert list(text.sentences(value)) == expected
    tokenizer = NLTKWordTokenizer()
    assert list(text.word_tokens(value)) == [t for s in expected for t in tokenizer.tokenize(s)]


def test_shared_responses_match_the_libraries(shared_data):
    path = shared_data / "ifeval" / "responses_gpt4.jsonl"
    values = [json.loads(line)["response"] for line in path.read_text().splitlines()[:120]]
    punkt, tokenizer = reference_punkt(), NLTKWordTokenizer()
    for value in values:
        assert text.language(value) == reference_language(value)
        expected = punkt.tokenize(value)
        assert list(text.sentences(value)) == expected
        assert list(text.word_tokens(value)) == [t for s in expected for t in tokenizer.tokenize(s)]
