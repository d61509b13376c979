"""The split plan of an export: which split each system-prompt group goes to, which held-out samples
the leakage check drops, and the counts that follow. Read from the store's aggregates, never from
every sample, inside the caller's transaction (the export's snapshot)."""

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from rnr_core import embeddings
from rnr_core.errors import RnrError
from rnr_core.export.leakage import ACTIONS, Entry, Matches, Pair, best_matches, flag, moved_groups
from rnr_core.export.splits import SPLITS, assign_groups, resolve_ratios
from rnr_core.store.embeddings import as_matrix

EXAMPLES = 10  # pairs shown in the report and the dataset card


@dataclass(frozen=True)
class Settings:
    """What to select and how to split it; checked on creation."""

    selection: dict
    include_failing: bool = False
    ratios: dict = field(default_factory=lambda: resolve_ratios(None, None))
    seed: int = 0
    stratify: bool = True
    threshold: float | None = 0.9
    action: str = "report"

    def __post_init__(self):
        if self.action not in ACTIONS:
            raise RnrError(f"Unknown leakage action {self.action!r}; choose one of {', '.join(ACTIONS)}.")
        if self.threshold is None and self.action != "report":
            raise RnrError(
                f"Near duplicates cannot be {'moved' if self.action == 'move' else 'dropped'} without the "
                "near-duplicate check: turn the check on, or leave the action at report."
            )
        if self.threshold is not None and not (
            isinstance(self.threshold, int | float) and 0 < self.threshold <= 1
        ):
            raise RnrError(
                "The leakage threshold is a cosine similarity above 0 and at most 1 "
                f"(got {self.threshold!r})."
            )

    @property
    def checks_leakage(self) -> bool:
        """Whether there is a held-out split for the check to look at."""
        return self.threshold is not None and any(v > 0 for k, v in self.ratios.items() if k != "train")


@dataclass
class Plan:
    """The split of each group, the (split, text hash) pairs dropped, the leakage report, and counts."""

    assignment: dict
    dropped: set
    leakage: dict
    counts: dict
    prompts: dict
    by_category: dict
    outcomes: Counter


def _groups(tally, include_failing: bool) -> tuple[dict, list, Counter]:
    """Groups of kept samples ({key: [categories, n]}), the kept tally rows, and outcomes of all."""
    groups, kept, outcomes = {}, [], Counter()
    for key, cats, outcome, n in tally:
        outcomes[outcome] += n
        if include_failing or outcome == "pass":
            group = groups.setdefault(key, [set(), 0])
            group[0].update(cats or [])
            group[1] += n
            kept.append((key, cats or [], n))
    return groups, kept, outcomes


def make_plan(store, settings: Settings) -> Plan:
    """Place the groups, check leakage, and count what the export will write."""
    groups, kept, outcomes = _groups(store.selected_tally(**settings.selection), settings.include_failing)
    placed = assign_groups(
        ((k, g[0], g[1]) for k, g in groups.items()), settings.ratios, settings.seed, settings.stratify
    )
    assignment, dropped, leakage, held = check(store, settings, placed, groups)
    counts, per_group, by_category = (
        dict.fromkeys(settings.ratios, 0),
        Counter(),
        {s: Counter() for s in settings.ratios},
    )
    for key, cats, n in kept:
        split = assignment[key]
        counts[split] += n
        per_group[key] += n
        by_category[split].update(dict.fromkeys(cats, n))
    for row in held:
        if (row["split"], row["text_hash"]) in dropped:
            counts[row["split"]] -= row["n"]
            per_group[row["group_key"]] -= row["n"]
            by_category[row["split"]].subtract(dict.fromkeys(row["cats"] or [], row["n"]))
    prompts = Counter(assignment[k] for k, n in per_group.items() if n > 0)
    return Plan(
        assignment,
        dropped,
        leakage,
        counts,
        {s: prompts[s] for s in settings.ratios},
        {s: dict(sorted((+c).items())) for s, c in by_category.items()},
        outcomes,
    )


def unchecked(settings: Settings, reason: str) -> dict:
    return {"checked": False, "reason": reason, "threshold": settings.threshold, "action": settings.action}


def check(store, settings: Settings, placed: dict, groups: dict) -> tuple[dict, set, dict, list]:
    """(assignment after any moves, dropped (split, text hash) pairs, the report, held-out text rows)."""
    if settings.threshold is None:
        return placed, set(), unchecked(settings, "turned off"), []
    if all(split == "train" for split in placed.values()):
        return placed, set(), unchecked(settings, "no samples outside the train split"), []
    with store.placed_groups(placed):
        held = store.held_out_texts(settings.selection, settings.include_failing)
        entries, vectors, missing = _entries(store, held)
        matches, keys = _compare(store, settings, entries, vectors)
    pairs = flag_earlier(entries, matches, keys, settings.threshold)
    report = _report(store, settings, entries, pairs, matches, keys, missing)
    assignment, dropped = dict(placed), set()
    if settings.action == "move":
        moved = moved_groups(entries, vectors, {p.entry for p in pairs}, settings.threshold)
        assignment.update(dict.fromkeys(moved, "train"))
        report |= {"moved_groups": len(moved), "moved_samples": sum(groups[g][1] for g in moved)}
    elif settings.action == "drop":
        dropped = {(entries[p.entry].split, entries[p.entry].text_hash) for p in pairs}
        report["dropped_samples"] = sum(entries[p.entry].samples for p in pairs)
    return assignment, dropped, report, held


def _entries(store, held: list[dict]) -> tuple[list[Entry], np.ndarray, int]:
    """One entry per (held-out split, text) with a stored vector; the samples of those without one."""
    by_text: dict[tuple, Entry] = {}
    for row in held:
        entry = by_text.setdefault(
            (row["split"], row["text_hash"]), Entry(row["split"], row["text_hash"], row["text"])
        )
        entry.groups.add(row["group_key"])
        entry.samples += row["n"]
    stored = store.embeddings_of(embeddings.MODEL, list({e.text_hash for e in by_text.values()}))
    entries = [e for e in by_text.values() if e.text_hash in stored]
    missing = sum(e.samples for e in by_text.values() if e.text_hash not in stored)
    vectors = np.stack([stored[e.text_hash] for e in entries]) if entries else np.zeros((0, 384), np.float32)
    return entries, vectors, missing


def _compare(store, settings: Settings, entries, vectors) -> tuple[dict, dict]:
    """Every held-out entry against train (streamed from the store) and against the held-out splits."""
    train_keys: list = []

    def train_blocks():
        for batch in store.split_vectors(
            settings.selection, settings.include_failing, embeddings.MODEL, "train"
        ):
            hashes, matrix = as_matrix(batch)
            train_keys.append(np.array(hashes, dtype="S32"))
            yield matrix

    matches = {"train": best_matches(vectors, train_blocks(), settings.threshold)}
    keys = {"train": np.concatenate(train_keys) if train_keys else np.array([], dtype="S32")}
    for split in settings.ratios:
        own = [i for i, e in enumerate(entries) if e.split == split]
        if split not in ("train", "test") and own:  # nothing comes after test
            matches[split] = best_matches(vectors, [vectors[own]], settings.threshold)
            keys[split] = np.array([entries[i].text_hash for i in own], dtype="S32")
    return matches, keys


def flag_earlier(entries, matches: dict, keys: dict, threshold: float) -> list[Pair]:
    """Pairs of each held-out entry with a text of an earlier split (train before validation before test)."""
    order = {s: i for i, s in enumerate(SPLITS)}
    masked = {}
    for split, found in matches.items():
        later = np.array([order[e.split] > order[split] for e in entries], dtype=bool)
        masked[split] = Matches(
            np.where(later, found.best, -np.inf),
            np.where(later, found.index, -1),
            np.where(later, found.above, 0),
        )
    decoded = {s: [h.decode() for h in k] for s, k in keys.items()}
    return flag(entries, masked, decoded, threshold) if entries else []


def _report(store, settings, entries, pairs: list[Pair], matches, keys, missing: int) -> dict:
    order = {s: i for i, s in enumerate(SPLITS)}
    total = sum(
        int(found.above[i])
        for split, found in matches.items()
        for i, e in enumerate(entries)
        if order[e.split] > order[split]
    )
    by_splits = Counter(f"{entries[p.entry].split}~{p.other_split}" for p in pairs)
    return {
        "checked": True,
        "model": embeddings.MODEL,
        "threshold": settings.threshold,
        "action": settings.action,
        "held_out_texts": len(entries),
        "pairs": total,
        "texts": len(pairs),
        "samples": sum(entries[p.entry].samples for p in pairs),
        "by_splits": dict(sorted(by_splits.items())),
        "examples": _examples(store, settings, entries, pairs),
        "unchecked_samples": missing,
    }


def _examples(store, settings, entries, pairs: list[Pair]) -> list[dict]:
    """The closest pairs, with both texts."""
    top = sorted(pairs, key=lambda p: (-p.similarity, entries[p.entry].text_hash))[:EXAMPLES]
    known = {e.text_hash: e.text for e in entries}
    wanted = [p.other for p in top if p.other not in known]
    known |= store.texts_of(settings.selection, wanted) if wanted else {}
    return [
        {
            "split": entries[p.entry].split,
            "text": entries[p.entry].text,
            "other_split": p.other_split,
            "other_text": known.get(p.other, ""),
            "similarity": round(p.similarity, 4),
        }
        for p in top
    ]
