"""Near-duplicate instructions across splits: pure pair finding over unit vectors, and what moving or
dropping the held-out side of each pair changes. No I/O: the vectors come in, decisions go out."""

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

ACTIONS = ("report", "move", "drop")
CHUNK = 1024  # held-out rows per block: a block against 8,192 stored vectors is 32 MB of scores


@dataclass
class Matches:
    """For each query row: its most similar key (global index, -1 for none), that similarity, and how
    many keys reach the threshold."""

    best: np.ndarray
    index: np.ndarray
    above: np.ndarray

    @classmethod
    def empty(cls, rows: int) -> "Matches":
        return cls(np.full(rows, -np.inf, np.float32), np.full(rows, -1, np.int64), np.zeros(rows, np.int64))


def best_matches(
    queries: np.ndarray, key_blocks: Iterable[np.ndarray], threshold: float, chunk: int = CHUNK
) -> Matches:
    """Compare every query row with every key row (unit vectors: a dot product is the cosine), block by
    block, so the full query x key matrix never exists."""
    found = Matches.empty(len(queries))
    offset = 0
    for keys in key_blocks:
        for start in range(0, len(queries), chunk):
            scores = queries[start : start + chunk] @ keys.T
            if not scores.size:
                continue
            rows = slice(start, start + len(scores))
            top = scores.argmax(axis=1)
            top_score = scores[np.arange(len(scores)), top]
            better = top_score > found.best[rows]
            found.best[rows] = np.where(better, top_score, found.best[rows])
            found.index[rows] = np.where(better, top + offset, found.index[rows])
            found.above[rows] += (scores >= threshold).sum(axis=1)
        offset += len(keys)
    return found


@dataclass
class Entry:
    """One instruction text in one held-out split: its groups, samples, and vector row."""

    split: str
    text_hash: str
    text: str
    groups: set = field(default_factory=set)
    samples: int = 0


@dataclass
class Pair:
    """A held-out entry and its closest match in an earlier split."""

    entry: int
    other_split: str
    other: str  # the matched text hash
    similarity: float


def flag(
    entries: list[Entry], matches: dict[str, Matches], keys: dict[str, list[str]], threshold
) -> list[Pair]:
    """The best pair of each entry reaching `threshold`, whichever earlier split it is in.

    `matches[split]` holds every entry's comparison with that split's texts, hashed in `keys[split]`.
    """
    pairs = []
    for i, _ in enumerate(entries):
        best = None
        for split, found in matches.items():
            if (
                found.index[i] >= 0
                and found.best[i] >= threshold
                and (best is None or found.best[i] > best[1])
            ):
                best = (split, float(found.best[i]), keys[split][found.index[i]])
        if best:
            pairs.append(Pair(i, best[0], best[2], best[1]))
    return pairs


def moved_groups(entries: list[Entry], vectors: np.ndarray, flagged: set[int], threshold: float) -> set:
    """Groups that join train: those of flagged entries, then any whose text is now a near (or exact)
    duplicate of a text that joined train with them, until no more do. `vectors` has a row per entry."""
    moved: set = set()
    newly = {g for i in flagged for g in entries[i].groups}
    while newly:
        moved |= newly
        joined = [i for i, e in enumerate(entries) if e.groups & newly]
        left = [i for i, e in enumerate(entries) if e.groups - moved]  # a text shared with a moved group
        if not left:  # matches itself, so its other groups follow
            break
        found = best_matches(vectors[left], [vectors[joined]], threshold)
        newly = {
            g for j, i in enumerate(left) if found.best[j] >= threshold for g in entries[i].groups - moved
        }
    return moved
