"""Split ratios and the placement of system-prompt groups in splits: pure, seeded, streaming-friendly.

A group is every sample that shares one system prompt; it goes whole to one split, so no prompt is on
two sides. Placing groups needs only (group key, categories, sample count) per group, never the samples.
"""

import math
from collections.abc import Iterable
from functools import lru_cache

from rnr_core.embeddings import text_hash
from rnr_core.errors import RnrError
from rnr_core.messages import stable_hash
from rnr_core.review import plural

SPLITS = ("train", "validation", "test")
DEFAULT_TEST_FRACTION = 0.1
# How far a split's share may land from the one asked, relative to it (at least one point), before the
# split is said to miss it: a 10% share may come out between 8% and 12%.
SHARE_TOLERANCE = 0.2


class RatioError(RnrError):
    """Split ratios that cannot be used; the message names them."""


def _shown(ratios: dict) -> str:
    return ", ".join(f"{name}={value:g}" for name, value in ratios.items())


def check_ratios(ratios: dict) -> dict[str, float]:
    """The ratios in split order (train, validation, test), or RatioError saying what is wrong."""
    unknown = [name for name in ratios if name not in SPLITS]
    if unknown:
        raise RatioError(
            f"Unknown split {', '.join(map(repr, unknown))} in the ratios; name splits train, validation "
            "and test, as in --ratios train=0.8,validation=0.1,test=0.1."
        )
    if "train" not in ratios or not 2 <= len(ratios) <= 3:
        raise RatioError(
            f"Give ratios for train and one or two of validation and test (got {_shown(ratios) or 'none'})."
        )
    bad = [f"{k}={v!r}" for k, v in ratios.items() if not isinstance(v, int | float) or not 0 <= v <= 1]
    if bad:
        raise RatioError(f"Each split ratio must be a number from 0 to 1; {', '.join(bad)} is not.")
    total = sum(ratios.values())
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        raise RatioError(f"Split ratios must add up to 1, but {_shown(ratios)} add up to {total:.6g}.")
    if ratios["train"] == 0:
        raise RatioError(f"The train split needs a ratio above 0 (got {_shown(ratios)}).")
    return {name: float(ratios[name]) for name in SPLITS if name in ratios}


def resolve_ratios(ratios: dict | None, test_fraction: float | None) -> dict[str, float]:
    """The ratios asked for: `ratios`, or train and test from `test_fraction` (0.1 when neither is given)."""
    if ratios is not None and test_fraction is not None:
        raise RatioError("Give split ratios or a test fraction, not both (the test fraction is shorthand).")
    if ratios is not None:
        return check_ratios(ratios)
    fraction = DEFAULT_TEST_FRACTION if test_fraction is None else test_fraction
    if not isinstance(fraction, int | float) or not 0 <= fraction < 1:
        raise RatioError(f"--test-fraction must be at least 0 and below 1 (got {fraction!r}).")
    return check_ratios({"train": 1 - fraction, "test": fraction})


def parse_ratios(text: str) -> dict[str, float]:
    """'train=0.8,validation=0.1,test=0.1' as a dict, checked."""
    ratios = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        try:
            ratios[name.strip()] = float(value) if sep else None
        except ValueError:
            ratios[name.strip()] = None
        if ratios[name.strip()] is None:
            raise RatioError(f"Cannot read {part!r} in the ratios; write NAME=NUMBER, as in train=0.8.")
    return check_ratios(ratios)


def group_key(system_prompt: str) -> str:
    """The key of a system prompt's group (the store computes the same md5 in SQL)."""
    return text_hash(system_prompt)


@lru_cache(maxsize=65536)
def bucket(seed: int, key: str) -> float:
    """A seeded position in [0, 1) for a group: its place in the shuffled order."""
    return int(stable_hash([seed, key])[:12], 16) / 16**12


def _stratum(categories: Iterable[str], stratify: bool) -> tuple:
    return tuple(sorted(set(categories))) if stratify else ()


def assign_groups(groups: Iterable[tuple[str, Iterable[str], int]], ratios: dict, seed: int, stratify: bool):
    """{group key: split} for (key, categories, sample count) groups.

    Groups are shuffled by seed, kept together by rule categories when `stratify`, and each in turn goes
    to the split furthest below its share of the samples so far. Every run of consecutive groups, and so
    every category stratum, is split close to the ratios where it has enough groups; a small stratum
    still leans on the running totals, so the whole export keeps its ratios.
    """
    ordered = sorted(groups, key=lambda g: (_stratum(g[1], stratify), bucket(seed, g[0]), g[0]))
    counts, total, placed = dict.fromkeys(ratios, 0), 0, {}
    for key, _, n in ordered:
        total += n
        split = max(ratios, key=lambda s: ratios[s] * total - counts[s])  # ties: the first, train
        counts[split] += n
        placed[key] = split
    return placed


def fallback_split(key: str, ratios: dict, seed: int) -> str:
    """The split of a group no plan placed (only rejected samples, for the negatives): by seed alone."""
    position, edge = bucket(seed, key), 0.0
    for split in reversed(list(ratios)):  # held-out splits take the low positions, train the rest
        edge += ratios[split]
        if position < edge:
            return split
    return "train"


def split_warning(counts: dict, prompts: dict, ratios: dict) -> str | None:
    """Why the split misses the shares asked for, or None when every held-out split comes close enough."""
    total = sum(counts.values())
    missed = []
    for split, ratio in ratios.items():
        share = counts.get(split, 0) / total if total else ratio
        if split != "train" and abs(share - ratio) > max(0.01, SHARE_TOLERANCE * ratio):
            missed.append(
                f"the {split} split holds {share:.0%} of the samples "
                f"({counts.get(split, 0):,} of {total:,}), not {ratio:.0%}"
            )
    if not missed:
        return None
    return (
        "The split keeps each system prompt's samples on one side, and with "
        f"{plural(sum(prompts.values()), 'system prompt')} {'; '.join(missed)}. "
        "Try another split seed, or select more system prompts."
    )
