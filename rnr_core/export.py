"""Train/test splits of samples, streamed to files in chat formats that trainers read as is."""

from collections import Counter
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import orjson

from rnr_core import jsonl
from rnr_core.errors import RnrError
from rnr_core.messages import stable_hash

SHAREGPT_FROM = {"system": "system", "user": "human", "assistant": "gpt"}


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


def _nothing_to_export(outcomes: Counter, filters: dict) -> RnrError:
    listed, total = _scope(filters), sum(outcomes.values())
    if not total:
        return RnrError(
            f"No samples with status {listed} to export. Generate some with 'rnr generate' or widen --status."
        )
    left = _excluded(outcomes, False)
    return RnrError(
        f"None of the {total} samples with status {listed} passed every verdict "
        f"({left['failing']} failed a rule, {left['unjudged']} have rules not yet judged). "
        "Judge them with 'rnr judge', or pass --include-failing to export them anyway."
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
    outcomes, counts = Counter(), {"train": 0, "test": 0}
    for system_prompt, outcome, n in store.selected_tally(**filters):
        outcomes[outcome] += n
        if include_failing or outcome == "pass":
            counts[split_of({"system_prompt": system_prompt}, test_fraction, seed)] += n
    excluded = _excluded(outcomes, include_failing)
    return {"counts": counts, "excluded": excluded, "candidates": sum(outcomes.values())}


def _write(
    store, files: dict, filters: dict, fmt: str, test_fraction: float, seed: int, include_failing: bool
):
    """Stream the selected samples into the split files; return (outcome tally, split counts)."""
    outcomes, counts = Counter(), {"train": 0, "test": 0}
    for batch in store.selected_batches(**filters):
        lines = {"train": [], "test": []}
        for sample in batch:
            outcomes[sample["outcome"]] += 1
            if include_failing or sample["outcome"] == "pass":
                lines[split_of(sample, test_fraction, seed)].append(jsonl.dumps(FORMATS[fmt](sample)))
        for split, rows in lines.items():
            files[f"{split}.jsonl"].writelines(rows)
            counts[split] += len(rows)
    return outcomes, counts


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
) -> dict:
    """Write train.jsonl, test.jsonl and manifest.json under `out_dir`; return the manifest.

    Only samples whose every rule passed (by its deciding verdict) go out, unless `include_failing`;
    samples with a rule nobody has judged yet count as not passed. `dataset` keeps one dataset's
    samples; `categories` keeps samples with at least one rule of those categories. Samples are
    streamed in id batches, and the files appear only when all of them are written.
    """
    check_settings(fmt, test_fraction)
    jsonl.check_out_dir(out_dir)
    filters = _filters(statuses, run_id, dataset, categories)
    with jsonl.staged_files(out_dir, ["train.jsonl", "test.jsonl", "manifest.json"]) as files:
        outcomes, counts = _write(store, files, filters, fmt, test_fraction, seed, include_failing)
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
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        files["manifest.json"].write(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return {**manifest, "out": str(Path(out_dir))}
