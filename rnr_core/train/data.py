"""The training split of an export folder, checked in full before any work starts."""

from pathlib import Path

import orjson

from rnr_core.errors import RnrError
from rnr_core.train import hints  # noqa: F401  (registers the fixes named below)

TRAIN_FILES = ("train.jsonl", "train.parquet")
FORMATS = ("messages", "parquet")  # the export formats that hold `messages` rows
ROLES = ("system", "user", "assistant")
# Row keys that give away another export format, so the message can name it.
OTHER_FORMATS = {
    "conversations": "sharegpt",
    "instruction": "alpaca",
    "output": "alpaca",
    "prompt": "prompt-completion",
    "text": "plain text",
}


class TrainDataError(RnrError):
    """The export folder cannot be trained on; nothing was started."""


def train_file(data) -> Path:
    """The export's training split: train.jsonl or train.parquet in the folder `data`."""
    folder = Path(data).expanduser()
    if not folder.is_dir():
        what = "is a file, not an export folder" if folder.exists() else "does not exist"
        raise TrainDataError(
            f"Training data {folder} {what}: give the folder 'rnr export' wrote (it holds train.jsonl)."
        )
    for name in TRAIN_FILES:
        if (folder / name).is_file():
            return folder / name
    raise TrainDataError(
        f"{folder} holds no {' or '.join(TRAIN_FILES)}: give the folder 'rnr export' wrote.",
        hint="train_reexport",
    )


def check_manifest(folder: Path) -> dict | None:
    """The export's manifest.json, if there is one; its format must be one that holds `messages` rows."""
    path = folder / "manifest.json"
    if not path.is_file():
        return None
    try:
        manifest = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise TrainDataError(f"{path} is not valid JSON ({exc}).", hint="train_reexport") from exc
    fmt = manifest.get("format") if isinstance(manifest, dict) else None
    if fmt is not None and fmt not in FORMATS:
        raise TrainDataError(
            f"{path} says this export is in the {fmt!r} format; training reads the 'messages' format "
            "(TRL's conversational rows).",
            hint="train_reexport",
        )
    return manifest


def _wrong_format(row: dict, where: str) -> TrainDataError:
    """A row without `messages`: name the format its keys give away."""
    fmt = next((f for key, f in OTHER_FORMATS.items() if key in row), None)
    seen = ", ".join(sorted(map(str, row))[:6]) or "none"
    what = f"looks like the {fmt} format" if fmt else f"has no 'messages' field (its fields: {seen})"
    return TrainDataError(
        f"{where} {what}; training reads the 'messages' format: "
        '{"messages": [{"role": "system"|"user"|"assistant", "content": "..."}, ...]}.',
        hint="train_reexport",
    )


def check_row(row, where: str) -> dict:
    """One training row as {"messages": [...]} with role and content only; else a TrainDataError."""
    if not isinstance(row, dict):
        raise TrainDataError(f"{where} is not a JSON object.", hint="train_reexport")
    messages = row.get("messages")
    if messages is None:
        raise _wrong_format(row, where)
    if not isinstance(messages, list) or not messages:
        raise TrainDataError(f"{where}: 'messages' must be a non-empty list of messages.")
    clean = []
    for i, message in enumerate(messages):
        field = f"{where}, messages[{i}]"
        if not isinstance(message, dict):
            raise TrainDataError(f"{field} is not an object with 'role' and 'content'.")
        if message.get("role") not in ROLES:
            raise TrainDataError(
                f"{field}: 'role' is {message.get('role')!r}; it must be one of {', '.join(ROLES)}."
            )
        if not isinstance(message.get("content"), str):
            raise TrainDataError(f"{field}: 'content' must be text.")
        clean.append({"role": message["role"], "content": message["content"]})
    if not any(m["role"] == "assistant" for m in clean):
        raise TrainDataError(f"{where} has no assistant message: there is nothing to learn from it.")
    return {"messages": clean}


def _jsonl_rows(path: Path):
    with path.open("rb") as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield f"{path} line {line_no}", orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise TrainDataError(f"{path} line {line_no} is not valid JSON ({exc}).") from exc


def _parquet_rows(path: Path):
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise TrainDataError(f"{path} cannot be read as Parquet ({exc}).") from exc
    for i, row in enumerate(table.to_pylist(), 1):
        yield f"{path} row {i}", row


def load_rows(data) -> list[dict]:
    """Every training row of the export folder `data`, checked; the first bad one fails the whole."""
    path = train_file(data)
    check_manifest(path.parent)
    reader = _parquet_rows if path.suffix == ".parquet" else _jsonl_rows
    rows = [check_row(row, where) for where, row in reader(path)]
    if not rows:
        raise TrainDataError(f"{path} holds no rows: export some samples first.", hint="train_reexport")
    return rows
