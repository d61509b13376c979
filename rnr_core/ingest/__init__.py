"""Import instruction files into the store, all or nothing per file."""

import gc
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson

from rnr_core.errors import IngestError
from rnr_core.ingest import readers
from rnr_core.messages import dedup_hash

JSON_FORMATS = {
    "alpaca": readers.alpaca_messages,
    "sharegpt": readers.sharegpt_messages,
    "chat": readers.chat_messages,
}
# Keys that identify a JSON record's format, in order of precedence.
DETECT_KEYS = (("conversations", "sharegpt"), ("messages", "chat"), ("instruction", "alpaca"))
TABLE_LOADERS = {".csv": "csv", ".parquet": "parquet"}
FORMATS = (*JSON_FORMATS, "csv", "parquet")


@dataclass(frozen=True)
class ImportResult:
    dataset: str
    source: str
    format: str
    read: int
    added: int
    duplicates: int


def ingest_file(store, path, name: str, fmt: str | None = None, column: str | None = None) -> ImportResult:
    """Read a file, validate every record, and add new instructions to dataset `name`."""
    with _gc_paused():
        return _ingest(store, Path(path), name, fmt, column)


@contextmanager
def _gc_paused():
    """Parsing makes millions of small objects that live on; cyclic GC passes over them cost ~30%."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _ingest(store, path: Path, name: str, fmt: str | None, column: str | None) -> ImportResult:
    fmt = fmt or TABLE_LOADERS.get(path.suffix.lower())
    if fmt is not None and fmt not in FORMATS:
        raise IngestError(f"Unknown format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    if not path.is_file():
        raise IngestError(f"{path}: no such file. Check the path and try again.")
    if fmt == "parquet":
        fmt, records = "parquet", _parquet_records(path, column)
    else:
        text = _decode(path)
        fmt, records = _text_records(text, str(path), fmt, column)
    if not records:
        raise IngestError(f"{path}: no records found. Is the file empty?")
    added, dupes = store.import_instructions(name, str(path), fmt, _rows(records))
    return ImportResult(name, str(path), fmt, len(records), added, dupes)


def _decode(path: Path) -> str:
    data = path.read_bytes()
    if not data.strip():
        raise IngestError(f"{path}: the file is empty. Point at a file with records.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise IngestError(
            f"{path}:{line}: not valid UTF-8 (byte {exc.start}). Re-save the file as UTF-8 and import again."
        ) from exc


def _text_records(text: str, source: str, fmt: str | None, column: str | None):
    if fmt == "csv":
        header, rows = readers.csv_rows(text, source)
        convert = readers.column_messages(_pick_column(header, column, source))
        return "csv", [readers.to_record(line, row, convert, source) for line, row in rows]
    values = list(readers.json_records(text, source))
    if not values:
        return fmt or "alpaca", []
    fmt = fmt or _detect(values[0][1], source, column)
    convert = readers.column_messages(column) if column else JSON_FORMATS[fmt]
    return fmt, [readers.to_record(line, value, convert, source, raw) for line, value, raw in values]


def _detect(first, source: str, column: str | None) -> str:
    if column or not isinstance(first, dict):
        return "alpaca"
    for key, fmt in DETECT_KEYS:
        if key in first:
            return fmt
    keys = ", ".join(sorted(first)) or "none"
    raise IngestError(
        f"{source}: cannot tell the format from the first record (keys: {keys}). "
        "Pass --format, or --column NAME to use one text field."
    )


def _pick_column(columns: list[str], column: str | None, source: str) -> str:
    if column:
        if column not in columns:
            raise IngestError(f"{source}: no column {column!r}; columns are {', '.join(columns) or 'none'}.")
        return column
    for candidate in ("instruction", "prompt"):
        if candidate in columns:
            return candidate
    raise IngestError(
        f"{source}: pass --column NAME to say which column holds the instruction "
        f"(columns: {', '.join(columns) or 'none'})."
    )


def _parquet_records(path: Path, column: str | None) -> list:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several unrelated types for bad files
        raise IngestError(f"{path}: not a readable Parquet file ({exc}).") from exc
    convert = readers.column_messages(_pick_column(table.column_names, column, str(path)))
    rows = table.to_pylist()
    return [readers.to_record(i, row, convert, str(path)) for i, row in enumerate(rows, 1)]


def _rows(records: list) -> list[tuple]:
    """(line, hash, messages JSON, original JSON) per record, ready for the store."""

    def dumps(value) -> str:
        return orjson.dumps(value, default=str).decode()

    return [(r.line, dedup_hash(r.messages), dumps(r.messages), r.raw or dumps(r.original)) for r in records]
