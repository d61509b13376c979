"""Length kinds: sentences, paragraphs, words and the first word of a paragraph."""

import re

from rnr_core.rules.base import RuleKind, compare, integer, phrase, register, relation, text
from rnr_core.rules.text import count_words, sentences

_DIVIDER = re.compile(r"\s?\*\*\*\s?")
_FIRST_WORDS = ("first", "overall", "today", "however", "finally", "in", "the", "this")


@register
class NumberSentences(RuleKind):
    id, category = "length_constraints:number_sentences", "length"
    params = (integer("num_sentences"), relation("relation"))

    def check(self, response):
        return compare(len(sentences(response)), self.relation, self.num_sentences)

    def render(self):
        return f"Answer in {phrase(self.relation, self.num_sentences, 'sentences')}."

    @classmethod
    def sample(cls, rng):
        return {"relation": rng.choice(("less than", "at least")), "num_sentences": rng.randint(3, 12)}


@register
class NumberParagraphs(RuleKind):
    id, category = "length_constraints:number_paragraphs", "length"
    params = (integer("num_paragraphs"),)

    def check(self, response):
        pieces = _DIVIDER.split(response)
        count = len(pieces)
        for i, piece in enumerate(pieces):
            if not piece.strip():
                if i not in (0, len(pieces) - 1):
                    return False
                count -= 1
        return count == self.num_paragraphs

    def render(self):
        return (
            f"Write exactly {self.num_paragraphs} paragraphs, separated from each other "
            "by the markdown divider ***."
        )

    @classmethod
    def sample(cls, rng):
        return {"num_paragraphs": rng.randint(2, 5)}


@register
class NumberWords(RuleKind):
    id, category = "length_constraints:number_words", "length"
    params = (integer("num_words"), relation("relation"))

    def check(self, response):
        return compare(count_words(response), self.relation, self.num_words)

    def render(self):
        return f"Answer with {phrase(self.relation, self.num_words, 'words')}."

    @classmethod
    def sample(cls, rng):
        rel = rng.choice(("less than", "at least"))
        return {
            "relation": rel,
            "num_words": rng.choice((50, 80, 120) if rel == "less than" else (40, 100, 150)),
        }


def _first_word(paragraph: str) -> str:
    """First word, leading quotes dropped, cut at the first . , ? ! ' \" and lower-cased."""
    word = paragraph.split()[0].strip().lstrip("'").lstrip('"')
    return re.split(r"""[.,?!'"]""", word, maxsplit=1)[0].lower()


@register
class NthParagraphFirstWord(RuleKind):
    id, category = "length_constraints:nth_paragraph_first_word", "length"
    params = (integer("num_paragraphs"), integer("nth_paragraph"), text("first_word"))

    def check(self, response):
        paragraphs = response.split("\n\n")
        count = sum(1 for p in paragraphs if p.strip())
        if not 0 < self.nth_paragraph <= count:
            return False
        paragraph = paragraphs[self.nth_paragraph - 1].strip()
        if not paragraph:
            return False
        return count == self.num_paragraphs and _first_word(paragraph) == self.first_word.lower()

    def render(self):
        return (
            f"Write exactly {self.num_paragraphs} paragraphs separated by blank lines; "
            f'paragraph {self.nth_paragraph} must start with the word "{self.first_word}".'
        )

    @classmethod
    def sample(cls, rng):
        n = rng.randint(2, 4)
        return {
            "num_paragraphs": n,
            "nth_paragraph": rng.randint(1, n),
            "first_word": rng.choice(_FIRST_WORDS),
        }
