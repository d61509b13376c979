"""Train/test splits of samples, written in chat formats that trainers read as is."""

from datetime import UTC, datetime

from rnr_core import jsonl
from rnr_core.errors import RnrError
from rnr_core.messages import stable_hash
from rnr_core.stats import with_outcomes

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


def split_of(sample: dict, test_fraction: float, seed: int) -> str:
    """Assign by system prompt text, so no prompt appears on both sides."""
    bucket = int(stable_hash([seed, sample["system_prompt"]])[:8], 16) / 0xFFFFFFFF
    return "test" if bucket < test_fraction else "train"


def build_splits(samples: list[dict], fmt: str, test_fraction: float, seed: int) -> dict[str, list]:
    if fmt not in FORMATS:
        raise RnrError(f"Unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    if not 0 <= test_fraction < 1:
        raise RnrError("--test-fraction must be at least 0 and below 1.")
    splits = {"train": [], "test": []}
    for sample in samples:
        splits[split_of(sample, test_fraction, seed)].append(FORMATS[fmt](sample))
    return splits


def select(samples: list[dict], include_failing: bool) -> list[dict]:
    """Samples fit to train on: every rule's deciding verdict is a pass, unless all are wanted."""
    return samples if include_failing else [s for s in samples if s["outcome"] == "pass"]


def _left_out(candidates: list[dict], chosen: list[dict]) -> dict[str, int]:
    """How many candidates the verdicts kept out, by outcome."""
    ids = {s["id"] for s in chosen}
    outcomes = [s["outcome"] for s in candidates if s["id"] not in ids]
    return {"failing": outcomes.count("fail"), "unjudged": outcomes.count("unjudged")}


def _nothing_to_export(candidates: list[dict], statuses) -> RnrError:
    listed = ", ".join(statuses)
    if not candidates:
        return RnrError(
            f"No samples with status {listed} to export. Generate some with 'rnr generate' or widen --status."
        )
    left = _left_out(candidates, [])
    return RnrError(
        f"None of the {len(candidates)} samples with status {listed} passed every verdict "
        f"({left['failing']} failed a rule, {left['unjudged']} have rules not yet judged). "
        "Judge them with 'rnr judge', or pass --include-failing to export them anyway."
    )


def export_samples(
    store,
    out_dir,
    fmt: str = "messages",
    statuses=("pending", "accepted"),
    test_fraction: float = 0.1,
    seed: int = 0,
    run_id: str | None = None,
    include_failing: bool = False,
) -> dict:
    """Write train.jsonl, test.jsonl and manifest.json under `out_dir`; return the manifest.

    Only samples whose every rule passed (by its deciding verdict) go out, unless `include_failing`;
    samples with a rule nobody has judged yet count as not passed.
    """
    jsonl.check_out_dir(out_dir)
    candidates = with_outcomes(store.attach_verdicts(store.export_samples(list(statuses), run_id)))
    samples = select(candidates, include_failing)
    if not samples:
        raise _nothing_to_export(candidates, statuses)
    splits = build_splits(samples, fmt, test_fraction, seed)
    out = jsonl.out_dir(out_dir)
    for name, rows in splits.items():
        jsonl.write_jsonl(out / f"{name}.jsonl", rows)
    manifest = {
        "format": fmt,
        "statuses": list(statuses),
        "include_failing": include_failing,
        "excluded": _left_out(candidates, samples),
        "test_fraction": test_fraction,
        "seed": seed,
        "run_id": run_id,
        "counts": {k: len(v) for k, v in splits.items()},
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    jsonl.write_json(out / "manifest.json", manifest)
    return {**manifest, "out": str(out)}
