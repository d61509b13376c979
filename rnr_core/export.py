"""Train/test splits of samples, written in chat formats that trainers read as is."""

import json
import os
from datetime import UTC, datetime
from pathlib import Path

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


def export_samples(
    store,
    out_dir,
    fmt: str = "messages",
    statuses=("pending", "accepted"),
    test_fraction: float = 0.1,
    seed: int = 0,
    run_id: str | None = None,
) -> dict:
    """Write train.jsonl, test.jsonl and manifest.json under `out_dir`; return the manifest."""
    samples = store.export_samples(list(statuses), run_id)
    if not samples:
        raise RnrError(
            f"No samples with status {', '.join(statuses)} to export. "
            "Generate some with 'rnr generate' or widen --status."
        )
    splits = build_splits(samples, fmt, test_fraction, seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in splits.items():
        _write_jsonl(out / f"{name}.jsonl", rows)
    manifest = {
        "format": fmt,
        "statuses": list(statuses),
        "test_fraction": test_fraction,
        "seed": seed,
        "run_id": run_id,
        "counts": {k: len(v) for k, v in splits.items()},
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return {**manifest, "out": str(out)}


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    """Write next to the target and rename, so a crash never leaves half a file."""
    tmp = path.with_suffix(".jsonl.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
