"""System prompts for the experiment: a role and 1-2 verifiable rules, with settings and wording
from the training side or the held-out side."""

import random

from rnr_core.experiment import pools, wording
from rnr_core.rules import rule_record
from rnr_core.rules.base import KINDS, build
from rnr_core.rules.conflicts import compatible

# Settings drawn from the split pools; other kinds use their own `sample`.
_SETTINGS = {
    "startend:end_checker": lambda rng, side, seed: {"end_phrase": pools.end_phrase(rng, side, seed)},
    "keywords:existence": lambda rng, side, seed: {"keywords": pools.keywords(rng, side, seed)},
}


def draw_kinds(rng: random.Random, kinds: list[str], n: int) -> list[str]:
    """Up to n distinct, pairwise compatible kinds from `kinds`."""
    chosen: list[str] = []
    for kind in rng.sample(kinds, len(kinds)):
        if len(chosen) == n:
            break
        if compatible([*chosen, kind]):
            chosen.append(kind)
    return chosen


def draw_rules(rng: random.Random, kinds: list[str], n: int, side: str, seed: int = 0) -> list[dict]:
    """n rule records of the given kinds, settings and wording from `side`."""
    records = []
    for i, kind in enumerate(draw_kinds(rng, kinds, n), 1):
        setting = _SETTINGS.get(kind)
        kwargs = setting(rng, side, seed) if setting else KINDS[kind].sample(rng)
        rule = build(kind, kwargs)
        records.append(rule_record(i, wording.word(rule, side, rng), rule.category, kind, kwargs or None))
    return records
