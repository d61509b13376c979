"""Export curated samples: plan the splits, stream the samples into the split files, then write the
manifest and the dataset card. Preview counts the same plan without writing anything."""

from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson

from rnr_core import embeddings, jsonl
from rnr_core.errors import RnrError
from rnr_core.export import card
from rnr_core.export.folder import ExportExists, existing_export, export_files, remove_stale, split_files
from rnr_core.export.formats import FORMATS
from rnr_core.export.plan import Settings, make_plan
from rnr_core.export.splits import assign_groups, fallback_split, group_key, resolve_ratios, split_warning
from rnr_core.export.summary import Summary
from rnr_core.progress import Progress, silent

DEFAULT_STATUSES = ("pending", "accepted")


class NothingToExport(RnrError):
    """The selection is empty: nothing would be written."""


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise RnrError(f"Unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}.")


def _selection(statuses, run_id, dataset, categories) -> dict:
    if not statuses:
        raise RnrError("Pick at least one review status to export (pending, accepted or rejected).")
    categories = [categories] if isinstance(categories, str) else list(categories or []) or None
    return {"statuses": list(statuses), "run_id": run_id, "dataset": dataset, "categories": categories}


def settings_of(
    fmt, statuses, test_fraction, seed, run_id, include_failing, dataset, categories, how
) -> Settings:
    """Every setting checked, before any work: the format, the ratios, the leakage check."""
    check_format(fmt)
    return Settings(
        selection=_selection(statuses, run_id, dataset, categories),
        include_failing=include_failing,
        ratios=resolve_ratios(how.ratios, test_fraction),
        seed=seed,
        stratify=how.stratify,
        threshold=how.leakage_threshold,
        action=how.leakage_action,
    )


@dataclass(frozen=True)
class How:
    """How to split and check: the keyword settings export_samples and export_preview share."""

    ratios: dict | None = None
    stratify: bool = True
    leakage_threshold: float | None = 0.9
    leakage_action: str = "report"


def _excluded(outcomes: Counter, include_failing: bool) -> dict[str, int]:
    """How many candidates the verdicts kept out, by outcome."""
    if include_failing:
        return {"failing": 0, "unjudged": 0}
    return {"failing": outcomes["fail"], "unjudged": outcomes["unjudged"]}


def _scope(filters: dict) -> str:
    """The selection in words, for messages: statuses, then any other filter."""
    text = ", ".join(filters["statuses"])
    extra = [f"{k.replace('_id', '')} {filters[k]}" for k in ("dataset", "run_id") if filters[k]]
    extra += [f"rule category {' or '.join(filters['categories'])}"] if filters["categories"] else []
    return text + (f" ({'; '.join(extra)})" if extra else "")


def _nothing_to_export(outcomes: Counter, filters: dict) -> NothingToExport:
    listed, total = _scope(filters), sum(outcomes.values())
    if not total:
        return NothingToExport(f"No samples with status {listed} to export.", hint="export_empty")
    left = _excluded(outcomes, False)
    return NothingToExport(
        f"None of the {total} samples with status {listed} passed every verdict "
        f"({left['failing']} failed a rule, {left['unjudged']} have rules not yet judged).",
        hint="export_failing",
    )


def _embed(store, settings: Settings, progress: Progress | None) -> None:
    """Store a vector for every selected instruction that lacks one: before the snapshot, since it writes."""
    if settings.checks_leakage:
        embeddings.ensure(store, settings.selection, settings.include_failing, progress)


def export_preview(
    store,
    fmt: str = "messages",
    statuses=DEFAULT_STATUSES,
    test_fraction: float | None = None,
    seed: int = 0,
    run_id: str | None = None,
    include_failing: bool = False,
    dataset: str | None = None,
    categories=None,
    *,
    ratios: dict | None = None,
    stratify: bool = True,
    leakage_threshold: float | None = 0.9,
    leakage_action: str = "report",
    embedding_progress: Progress | None = None,
) -> dict:
    """What export_samples would write with these settings: counts per split and per split x category,
    what is left out, and the leakage report. Writes no files (it stores missing instruction embeddings,
    which `embedding_progress(done, total)` follows)."""
    how = How(ratios, stratify, leakage_threshold, leakage_action)
    settings = settings_of(
        fmt, statuses, test_fraction, seed, run_id, include_failing, dataset, categories, how
    )
    _embed(store, settings, embedding_progress)
    with store.transaction():
        plan = make_plan(store, settings)
    return {
        "counts": plan.counts,
        "prompts": plan.prompts,
        "by_category": plan.by_category,
        "split_warning": split_warning(plan.counts, plan.prompts, settings.ratios),
        "excluded": _excluded(plan.outcomes, include_failing),
        "candidates": sum(plan.outcomes.values()),
        "ratios": settings.ratios,
        "stratify": settings.stratify,
        "leakage": plan.leakage,
    }


def _negatives(store, file, settings: Settings, plan, fmt: str, batch) -> dict:
    """Rejected samples of the same filters, with why, in the format's record shape plus their split."""
    reasons, row_of = Counter(), FORMATS[fmt].row
    selection = {**settings.selection, "statuses": ["rejected"]}
    with closing(store.selected_batches(**selection, batch=batch, review=True)) as batches:
        for rows in batches:
            lines = []
            for row in rows:
                key = row["group_key"]
                split = plan.assignment.get(key) or fallback_split(key, settings.ratios, settings.seed)
                why = {"reject_reason": row["reject_reason"], "review_note": row["review_note"]}
                lines.append(
                    jsonl.dumps(row_of(row) | {"split": split, **why, "failed_rules": row["failed_rules"]})
                )
                reasons[row["reject_reason"] or "unrecorded"] += 1
            file.writelines(lines)
    return {"count": sum(reasons.values()), "reasons": dict(reasons.most_common())}


def _write(store, files: dict, settings: Settings, fmt: str, negatives: bool, progress, batch):
    """Plan, then stream the selected samples into the split files, all in one snapshot of the store;
    returns (summary, plan, negatives counts)."""
    form, summary = FORMATS[fmt], Summary(settings.ratios)
    names = split_files(fmt, settings.ratios)
    sinks = {split: form.sink(files[name]) for split, name in names.items()}
    keep_all, found = settings.include_failing, None
    # The snapshot's transaction is held here, not only inside the generator: a write that fails (a full
    # disk) would leave the generator suspended inside it, and the transaction open on this cursor.
    with store.transaction():
        plan = make_plan(store, settings)
        if not sum(plan.counts.values()):  # said from the plan's tally, before streaming every sample
            raise _nothing_to_export(plan.outcomes, settings.selection)
        # Instruction hashes are read only when some are dropped: fetching a column costs time.
        batches = store.selected_batches(
            **settings.selection, batch=batch, progress=progress, text=bool(plan.dropped)
        )
        with closing(batches):
            for rows in batches:
                out = {split: [] for split in settings.ratios}
                for row in rows:
                    summary.candidate(row)
                    if not (keep_all or row["outcome"] == "pass"):
                        continue
                    key = row["group_key"]
                    split = plan.assignment.get(key) or fallback_split(key, settings.ratios, settings.seed)
                    if plan.dropped and (split, row["text_hash"]) in plan.dropped:
                        summary.dropped += 1
                        continue
                    out[split].append(form.row(row))
                    summary.written(row, split)
                for split, records in out.items():
                    sinks[split].write(records)
        if negatives:
            found = _negatives(store, files["negatives.jsonl"], settings, plan, fmt, batch)
    for sink in sinks.values():
        sink.close()
    return summary, plan, found


def _title(settings: Settings) -> str:
    scope = settings.selection["dataset"] or settings.selection["run_id"]
    return "RNR role-and-rules data" + (f" from {scope}" if scope else "")


def export_samples(
    store,
    out_dir,
    fmt: str = "messages",
    statuses=DEFAULT_STATUSES,
    test_fraction: float | None = None,
    seed: int = 0,
    run_id: str | None = None,
    include_failing: bool = False,
    dataset: str | None = None,
    categories=None,
    overwrite: bool = False,
    progress: Progress = silent,
    exported_by: str | None = None,
    batch: int | None = None,
    *,
    ratios: dict | None = None,
    stratify: bool = True,
    leakage_threshold: float | None = 0.9,
    leakage_action: str = "report",
    negatives: bool = False,
    language: str | None = "en",
    embedding_progress: Progress | None = None,
) -> dict:
    """Write the split files, README.md (the dataset card) and manifest.json under `out_dir` (and
    negatives.jsonl with `negatives`); return the manifest.

    Only samples whose every rule passed (by its deciding verdict) go out, unless `include_failing`;
    samples with a rule nobody has judged yet count as not passed. `dataset` keeps one dataset's
    samples; `categories` keeps samples with at least one rule of those categories. `ratios` such as
    {"train": .8, "validation": .1, "test": .1} (default: train and test from `test_fraction`, 0.1) must
    add up to 1; samples sharing a system prompt go to one split, `stratify` balances rule categories
    across splits. `leakage_threshold` (cosine; None skips the check) finds near-duplicate instructions
    across splits, and `leakage_action` reports, moves (the held-out group joins train) or drops (the
    held-out samples) them. `negatives` adds the rejected samples with their reasons.

    Samples are streamed in id batches (of `batch` ids), all read in one transaction, so the files and
    the manifest's counts are one snapshot however others review meanwhile; the files appear only when
    all of them are written. Files of an earlier export in `out_dir` are replaced only with
    `overwrite`; else ExportExists says what is there. `progress(scanned, total)` follows the store's
    samples as they are looked at; `embedding_progress(done, total)` the instructions embedded first.
    """
    how = How(ratios, stratify, leakage_threshold, leakage_action)
    settings = settings_of(
        fmt, statuses, test_fraction, seed, run_id, include_failing, dataset, categories, how
    )
    jsonl.check_out_dir(out_dir)
    there = None if overwrite or not Path(out_dir).is_dir() else existing_export(out_dir)
    if there:
        raise ExportExists(out_dir, there)
    _embed(store, settings, embedding_progress)
    names = export_files(fmt, settings.ratios, negatives)
    with jsonl.staged_files(out_dir, names) as files:
        summary, plan, found = _write(store, files, settings, fmt, negatives, progress, batch)
        if not summary.written_count:
            raise _nothing_to_export(summary.outcomes, settings.selection)
        manifest = _manifest(settings, fmt, summary, plan, names) | {
            "negatives": found,
            "language": language,
            "exported_by": exported_by,
        }
        files["README.md"].write(card.render(manifest).encode("utf-8"))
        recorded = manifest | {"held_out": _held_out(settings, summary, plan)}
        files["manifest.json"].write(orjson.dumps(recorded, option=orjson.OPT_INDENT_2))
    remove_stale(out_dir, names)
    return {**manifest, "out": str(Path(out_dir))}


def _manifest(settings: Settings, fmt: str, summary: Summary, plan, names: list[str]) -> dict:
    fields = summary.fields()
    return {
        "title": _title(settings),
        "format": fmt,
        "files": names,
        "split_files": split_files(fmt, settings.ratios),
        "statuses": settings.selection["statuses"],
        "include_failing": settings.include_failing,
        "excluded": _excluded(summary.outcomes, settings.include_failing),
        "test_fraction": settings.ratios.get("test", 0.0),
        "ratios": settings.ratios,
        "stratify": settings.stratify,
        "seed": settings.seed,
        "run_id": settings.selection["run_id"],
        "dataset": settings.selection["dataset"],
        "categories": settings.selection["categories"],
        **fields,
        "dropped": summary.dropped,
        "split_warning": split_warning(fields["counts"], fields["prompts"], settings.ratios),
        "leakage": plan.leakage,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _held_out(settings: Settings, summary: Summary, plan) -> dict:
    """Each held-out split's system prompts (group keys) and dropped instructions (text hashes), so
    `rnr benchmark freeze --export` takes exactly the prompts this export held out."""
    return {
        split: {
            "groups": sorted(summary.groups[split]),
            "dropped_texts": sorted(h for s, h in plan.dropped if s == split),
        }
        for split in settings.ratios
        if split != "train"
    }


def build_splits(
    samples: list[dict], fmt: str, test_fraction=None, seed: int = 0, ratios=None, stratify: bool = True
) -> dict[str, list]:
    """The in-memory export of `samples` (every one kept): split records as export_samples places them."""
    check_format(fmt)
    ratios = resolve_ratios(ratios, test_fraction)
    groups: dict[str, list] = {}
    for sample in samples:
        group = groups.setdefault(group_key(sample["system_prompt"]), [set(), 0])
        group[0].update(r.get("category") for r in sample.get("rules") or [] if r.get("category"))
        group[1] += 1
    placed = assign_groups(((k, g[0], g[1]) for k, g in groups.items()), ratios, seed, stratify)
    splits = {split: [] for split in ratios}
    for sample in samples:
        splits[placed[group_key(sample["system_prompt"])]].append(FORMATS[fmt].row(sample))
    return splits


def split_placement(
    store, run_id=None, dataset=None, test_fraction=None, seed: int = 0, ratios=None, stratify: bool = True
):
    """A function from a system prompt to the split an export of this run or dataset (default statuses,
    passing samples) puts it in; prompts that export leaves out are placed by seed alone. Leakage moves
    are not replayed."""
    how = How(ratios, stratify, leakage_threshold=None)
    settings = settings_of(
        "messages", DEFAULT_STATUSES, test_fraction, seed, run_id, False, dataset, None, how
    )
    with store.transaction():
        assignment = make_plan(store, settings).assignment

    def split_of(system_prompt: str) -> str:
        key = group_key(system_prompt)
        return assignment.get(key) or fallback_split(key, settings.ratios, settings.seed)

    split_of.ratios = settings.ratios
    return split_of
