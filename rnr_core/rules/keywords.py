"""Keyword kinds: required, counted, forbidden words and letter counts."""

import re

from rnr_core.rules.base import RuleKind, compare, integer, letter, phrase, register, relation, text, words

_VOCABULARY = (
    "example",
    "summary",
    "important",
    "simple",
    "future",
    "reason",
    "detail",
    "balance",
    "practical",
    "clear",
    "step",
    "idea",
    "value",
    "quality",
    "result",
)
_FORBIDDEN = (
    "very",
    "really",
    "basically",
    "literally",
    "actually",
    "just",
    "thing",
    "stuff",
    "awesome",
    "honestly",
    "obviously",
    "totally",
)


@register
class Existence(RuleKind):
    id, category = "keywords:existence", "content"
    params = (words("keywords"),)

    def check(self, response):
        return all(re.search(re.escape(k), response, flags=re.IGNORECASE) for k in self.keywords)

    def render(self):
        return "Include the keywords " + ", ".join(f'"{k}"' for k in self.keywords) + " in the response."

    @classmethod
    def sample(cls, rng):
        return {"keywords": rng.sample(_VOCABULARY, rng.randint(1, 2))}


@register
class Frequency(RuleKind):
    id, category = "keywords:frequency", "content"
    params = (text("keyword"), integer("frequency"), relation("relation"))

    def check(self, response):
        found = len(re.findall(re.escape(self.keyword.strip()), response, flags=re.IGNORECASE))
        return compare(found, self.relation, self.frequency)

    def render(self):
        times = phrase(self.relation, self.frequency, "times")
        return f'Use the word "{self.keyword}" {times}.'

    @classmethod
    def sample(cls, rng):
        rel = rng.choice(("less than", "at least"))
        return {
            "keyword": rng.choice(_VOCABULARY),
            "relation": rel,
            "frequency": rng.randint(2, 4) if rel == "less than" else rng.randint(1, 3),
        }


@register
class ForbiddenWords(RuleKind):
    id, category = "keywords:forbidden_words", "content"
    params = (words("forbidden_words"),)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # One pass over the response for all the words, instead of one per word.
        alternatives = "|".join(re.escape(w) for w in self.forbidden_words)
        self._pattern = re.compile(r"\b(?:" + alternatives + r")\b", flags=re.IGNORECASE)

    def check(self, response):
        return self._pattern.search(response) is None

    def render(self):
        return "Do not use any of these words: " + ", ".join(f'"{w}"' for w in self.forbidden_words) + "."

    @classmethod
    def sample(cls, rng):
        return {"forbidden_words": rng.sample(_FORBIDDEN, rng.randint(2, 4))}


@register
class LetterFrequency(RuleKind):
    id, category = "keywords:letter_frequency", "content"
    params = (letter("letter"), integer("let_frequency"), relation("let_relation"))

    def check(self, response):
        found = response.lower().count(self.letter.strip().lower())
        return compare(found, self.let_relation, self.let_frequency)

    def render(self):
        times = phrase(self.let_relation, self.let_frequency, "times")
        return f'The letter "{self.letter}" must appear {times} in the response.'

    @classmethod
    def sample(cls, rng):
        rel = rng.choice(("less than", "at least"))
        return {
            "letter": rng.choice("aeiorstn"),
            "let_relation": rel,
            "let_frequency": rng.choice((3, 5, 10)) if rel == "at least" else rng.choice((40, 60, 80)),
        }
