"""Draw verifiable rules for a system prompt: seeded kinds and kwargs, never two that conflict."""

import random

from rnr_core.rules import checker_of, rule_record
from rnr_core.rules.base import KINDS, build
from rnr_core.rules.conflicts import compatible


def draw_kinds(rng: random.Random, n: int, among: frozenset[str] | None = None) -> list[str]:
    """Up to n distinct pool kinds (of `among`, when given), in drawn order, pairwise compatible."""
    chosen: list[str] = []
    pool = sorted(k for k, c in KINDS.items() if c.in_pool and (among is None or k in among))
    for kind in rng.sample(pool, len(pool)):
        if len(chosen) == n:
            break
        if compatible([*chosen, kind]):
            chosen.append(kind)
    return chosen


def draw_rules(
    rng: random.Random, n: int, first_index: int, among: frozenset[str] | None = None
) -> list[dict]:
    """n verifiable rule records (ids from r<first_index>), rendered in natural language."""
    records = []
    for i, kind in enumerate(draw_kinds(rng, n, among), first_index):
        kwargs = KINDS[kind].sample(rng)
        rule = build(kind, kwargs)
        records.append(rule_record(i, rule.render(), rule.category, kind, kwargs))
    return records


def check_rules(rules: list[dict], response: str) -> dict[str, bool]:
    """Strict checker verdicts for the verifiable rules among `rules`, by rule id."""
    return {r["id"]: bool(response.strip()) and checker_of(r).check(response) for r in rules if r.get("kind")}
