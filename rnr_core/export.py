"""Train/test splits of samples, streamed to files in chat formats that trainers read as is."""

from collections import Counter
from contextlib import closing
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import orjson

from rnr_core import jsonl
from rnr_core.errors import OutputError, RnrError
from rnr_core.messages import stable_hash
from rnr_core.progress import Progress, silent
from rnr_core.review import plural

SHAREGPT_FROM = {"system": "system", "user": "human", "assistant": "gpt"}
FILES = ("train.jsonl", "test.jsonl", "manifest.json")
# How far the test share may land from the one asked, relative to it (at least one point), before
# the split is said to miss it: a 10% share may come out between 8% and 12%.
SHARE_TOLERANCE = 0.2


class ExportExists(OutputError):
    """The folder already holds files an export would replace; `out` and `contents` say what, to ask first."""

    def __init__(self, out, contents: str):
        super().__init__(
            f"{out} already holds {contents}. Pass --overwrite to replace the export files, "
            "or choose another --out."
        )
        self.out, self.contents = str(out), contents


def conversation(sample: dict) -> list[dict]:
    """System prompt, the user turns, and the response, as one message list."""
    return [
        {"role": "system", "content": sample["system_prompt"]},
        *sample["messages"],
        {"role": "assistant", "content": sample["response"]},
    ]


def as_messages(sample: dict) -> dict:
    return {"messages": conversation(sample)}


def as_sharegpt(sample: dict) -> dict:
    return {
        "conversations": [
            {"from": SHAREGPT_FROM[m["role"]], "value": m["content"]} for m in conversation(sample)
        ]
    }


FORMATS = {"messages": as_messages, "sharegpt": as_sharegpt}


@lru_cache(maxsize=4096)
def _bucket(seed: int, system_prompt: str) -> float:
    # The K samples of a group share one prompt and sit together in id order, so a small cache hits.
    return int(stable_hash([seed, system_prompt])[:8], 16) / 0xFFFFFFFF


def split_of(sample: dict, test_fraction: float, seed: int) -> str:
    """Assign by system prompt text, so no prompt appears on both sides."""
    return "test" if _bucket(seed, sample["system_prompt"]) < test_fraction else "train"


def split_warning(counts: dict, prompts: dict, test_fraction: float) -> str | None:
    """Why the split misses the test share asked for, or None when it comes close enough."""
    total = counts["train"] + counts["test"]
    share = counts["test"] / total if total else test_fraction
    if abs(share - test_fraction) <= max(0.01, SHARE_TOLERANCE * test_fraction):
        return None
    return (
        "The split keeps each system prompt's samples on one side, and with "
        f"{plural(prompts['train'] + prompts['test'], 'system prompt')} the test split holds {share:.0%} "
        f"of the samples ({counts['test']:,} of {total:,}), not {test_fraction:.0%}. "
        "Try another split seed, or select more system prompts."
    )


def describe_contents(found: list[str], manifest: dict | None, others: int) -> str:
    """What a folder holds, in words: the export files found, the export they are from, other files."""
    text = ", ".join(found)
    if manifest and isinstance(manifest.get("counts"), dict):
        counts = manifest["counts"]
        text += (
            f" (an export of {counts.get('train', '?')} train and {counts.get('test', '?')} test samples"
            f", made {manifest.get('created_at', 'at an unknown time')})"
        )
    if others:
        text += f", and {plural(others, 'other item')}, which an export leaves alone"
    return text


def existing_export(out_dir) -> str | None:
    """What in `out_dir` an export would replace, described; None when nothing would be."""
    out = Path(out_dir)
    found = [name for name in FILES if (out / name).exists()]
    if not found:
        return None
    try:
        manifest = orjson.loads((out / "manifest.json").read_bytes())
    except (OSError, orjson.JSONDecodeError):
        manifest = None  # no readable manifest: the files are still named
    others = sum(1 for p in out.iterdir() if p.name not in FILES and not p.name.startswith("."))
    return describe_contents(found, manifest if isinstance(manifest, dict) else None, others)


def check_settings(fmt: str, test_fraction: float) -> None:
    if fmt not in FORMATS:
        raise RnrError(f"Unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    if not 0 <= test_fraction < 1:
        raise RnrError("--test-fraction must be at least 0 and below 1.")


def build_splits(samples: list[dict], fmt: str, test_fraction: float, seed: int) -> dict[str, list]:
    check_settings(fmt, test_fraction)
    splits = {"train": [], "test": []}
    for sample in samples:
        splits[split_of(sample, test_fraction, seed)].append(FORMATS[fmt](sample))
    return splits


def _filters(statuses, run_id, dataset, categories) -> dict:
    categories = [categories] if isinstance(categories, str) else list(categories or []) or None
    return {"statuses": list(statuses), "run_id": run_id, "dataset": dataset, "categories": categories}


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


class NothingToExport(RnrError):
    """The selection is empty: nothing would be written."""


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


def export_preview(
    store,
    fmt: str = "messages",
    statuses=("pending", "accepted"),
    test_fraction: float = 0.1,
    seed: int = 0,
    run_id: str | None = None,
    include_failing: bool = False,
    dataset: str | None = None,
    categories=None,
) -> dict:
    """What export_samples would write with these settings: counts per split and left out; writes nothing."""
    check_settings(fmt, test_fraction)
    filters = _filters(statuses, run_id, dataset, categories)
    outcomes, counts, prompts = Counter(), {"train": 0, "test": 0}, {"train": set(), "test": set()}
    for system_prompt, outcome, n in store.selected_tally(**filters):
        outcomes[outcome] += n
        if include_failing or outcome == "pass":
            split = split_of({"system_prompt": system_prompt}, test_fraction, seed)
            counts[split] += n
            prompts[split].add(system_prompt)
    prompts = {split: len(texts) for split, texts in prompts.items()}
    return {
        "counts": counts,
        "prompts": prompts,
        "split_warning": split_warning(counts, prompts, test_fraction),
        "excluded": _excluded(outcomes, include_failing),
        "candidates": sum(outcomes.values()),
    }


def _write(store, files: dict, filters: dict, split: dict, include_failing: bool, progress: Progress, batch):
    """Stream the selected samples, one snapshot of the store, into the split files; return (outcome
    tally, split counts, prompts)."""
    outcomes, counts = Counter(), {"train": 0, "test": 0}
    prompts = {"train": set(), "test": set()}  # hashes, not texts: a million prompts stay small
    fmt, test_fraction, seed = split["fmt"], split["test_fraction"], split["seed"]
    # The snapshot's transaction is held here, not only inside the generator: a write that fails (a full
    # disk) would leave the generator suspended inside it, and the transaction open on this cursor.
    batches = store.selected_batches(**filters, batch=batch, progress=progress)
    with store.transaction(), closing(batches):
        for rows in batches:
            lines = {"train": [], "test": []}
            for sample in rows:
                outcomes[sample["outcome"]] += 1
                if include_failing or sample["outcome"] == "pass":
                    side = split_of(sample, test_fraction, seed)
                    lines[side].append(jsonl.dumps(FORMATS[fmt](sample)))
                    prompts[side].add(hash(sample["system_prompt"]))
            for side, rows in lines.items():
                files[f"{side}.jsonl"].writelines(rows)
                counts[side] += len(rows)
    return outcomes, counts, {side: len(hashes) for side, hashes in prompts.items()}


def export_samples(
    store,
    out_dir,
    fmt: str = "messages",
    statuses=("pending", "accepted"),
    test_fraction: float = 0.1,
    seed: int = 0,
    run_id: str | None = None,
    include_failing: bool = False,
    dataset: str | None = None,
    categories=None,
    overwrite: bool = False,
    progress: Progress = silent,
    exported_by: str | None = None,
    batch: int | None = None,
) -> dict:
    """Write train.jsonl, test.jsonl and manifest.json under `out_dir`; return the manifest.

    Only samples whose every rule passed (by its deciding verdict) go out, unless `include_failing`;
    samples with a rule nobody has judged yet count as not passed. `dataset` keeps one dataset's
    samples; `categories` keeps samples with at least one rule of those categories. Samples are
    streamed in id batches (of `batch` ids), all read in one transaction, so the files and the
    manifest's counts are one snapshot however others review meanwhile; the files appear only when all
    of them are written. Files of an earlier export in `out_dir` are replaced only with `overwrite`;
    else ExportExists says what is there. `progress(scanned, total)` follows the store's samples as
    they are looked at.
    """
    check_settings(fmt, test_fraction)
    jsonl.check_out_dir(out_dir)
    there = None if overwrite or not Path(out_dir).is_dir() else existing_export(out_dir)
    if there:
        raise ExportExists(out_dir, there)
    filters = _filters(statuses, run_id, dataset, categories)
    split = {"fmt": fmt, "test_fraction": test_fraction, "seed": seed}
    with jsonl.staged_files(out_dir, list(FILES)) as files:
        outcomes, counts, prompts = _write(store, files, filters, split, include_failing, progress, batch)
        if not sum(counts.values()):
            raise _nothing_to_export(outcomes, filters)
        manifest = {
            "format": fmt,
            "statuses": list(statuses),
            "include_failing": include_failing,
            "excluded": _excluded(outcomes, include_failing),
            "test_fraction": test_fraction,
            "seed": seed,
            "run_id": run_id,
            "dataset": dataset,
            "categories": filters["categories"],
            "counts": counts,
            "prompts": prompts,
            "split_warning": split_warning(counts, prompts, test_fraction),
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "exported_by": exported_by,
        }
        files["manifest.json"].write(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return {**manifest, "out": str(Path(out_dir))}
