"""Settings drawn from pools split in two: training sees one side, the held-out benchmark the other.

End phrases and keywords come from a word list split at random (seeded) into disjoint halves, so
every training row can carry a fresh phrase the model must copy from its system prompt, and no
held-out phrase or keyword was ever seen in training.
"""

import random
from functools import lru_cache
from importlib import resources

SIDES = ("train", "heldout")

# Templates for end phrases; {a} and {b} are pool words. The held-out side has its own templates.
_PHRASE_TEMPLATES = {
    "train": (
        "{A} {b} {c}.",
        "That is all about {a} and {b}.",
        "Keep the {a} in mind.",
        "{A} and {b} forever!",
        "Thanks for asking about {a}.",
        "Until next time {a} friend.",
        "{A} {b}.",
        "Remember {a} {b} {c}.",
    ),
    "heldout": (
        "{A} {b} {c}!",
        "So ends the {a} story.",
        "Stay close to your {a}.",
        "Goodbye from the {a} {b}.",
        "{A} is the last word.",
        "{A} {b} {c} {d}.",
    ),
}
ROLES = {
    "train": (
        "You are a helpful assistant.",
        "You are a friendly tutor who explains things clearly.",
        "You are a concise technical writer.",
        "You are a customer support agent for an online shop.",
        "You are a patient teacher for curious students.",
        "You are an expert consultant who gives practical advice.",
        "You are a cheerful travel guide.",
        "You are a careful research assistant.",
    ),
    "heldout": (
        "You are a knowledgeable librarian.",
        "You are a calm coach who helps people reach their goals.",
        "You are an assistant for a small software company.",
        "You are a writing mentor.",
    ),
}
PLAIN_SYSTEM = "You are a helpful assistant."


@lru_cache(maxsize=4)
def words(seed: int = 0) -> dict[str, tuple[str, ...]]:
    """The shipped word list, shuffled with `seed` and split into two disjoint halves."""
    text = resources.files("rnr_core.experiment").joinpath("words.txt").read_text(encoding="utf-8")
    pool = sorted({w.strip() for w in text.split() if w.strip()})
    random.Random(seed).shuffle(pool)
    half = len(pool) // 2
    return {"train": tuple(sorted(pool[:half])), "heldout": tuple(sorted(pool[half:]))}


def end_phrase(rng: random.Random, side: str, seed: int = 0) -> str:
    """A fresh end phrase from the side's templates and words (no commas: a no-comma rule may join)."""
    pool = words(seed)[side]
    a, b, c, d = rng.sample(pool, 4)
    template = rng.choice(_PHRASE_TEMPLATES[side])
    return template.format(a=a, b=b, c=c, d=d, A=a.capitalize())


def keywords(rng: random.Random, side: str, seed: int = 0) -> list[str]:
    """One or two keywords from the side's words."""
    return rng.sample(words(seed)[side], rng.randint(1, 2))


def role(rng: random.Random, side: str) -> str:
    return rng.choice(ROLES[side])
