"""Import instruction files into the store, all or nothing per file."""

import gc
from collections.abc import Callable
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
# Extensions that name a format; any other file is JSON or JSONL, its flavour detected.
SUFFIXES = {".csv": "csv", ".parquet": "parquet"}


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
    if not name.strip():
        raise IngestError("The dataset name is empty.", hint="dataset_name")
    fmt, records = read_records(path, fmt, column)
    if not records:
        raise IngestError(f"{path}: no records found. Is the file empty?")
    added, dupes = store.import_instructions(name, str(path), fmt, _rows(records))
    return ImportResult(name, str(path), fmt, len(records), added, dupes)


def read_records(path: Path, fmt: str | None = None, column: str | None = None) -> tuple[str, list]:
    """The format (given, or detected) and every record of a file, validated."""
    fmt = fmt or SUFFIXES.get(path.suffix.lower())
    if fmt is not None and fmt not in READERS:
        raise IngestError(f"Unknown format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    _check_file(path)
    return (READERS[fmt] if fmt else _read_json(None))(path, column)


def field_names(path: Path, fmt: str | None = None) -> list[str]:
    """What `column` may name in this file: CSV or Parquet columns, or the first JSON record's text
    fields; none for chat formats, whose records are conversations already."""
    fmt = fmt or SUFFIXES.get(path.suffix.lower())
    if fmt is not None and fmt not in READERS:
        raise IngestError(f"Unknown format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    _check_file(path)
    if fmt in COLUMN_READERS:
        return COLUMN_READERS[fmt](path)
    if fmt in ("sharegpt", "chat"):
        return []
    first = next(readers.json_records(_decode(path), str(path)), None)
    value = first[1] if first else None
    if not isinstance(value, dict) or (fmt is None and _flavour(value) in ("sharegpt", "chat")):
        return []
    return [k for k, v in value.items() if isinstance(v, str)]


def _flavour(first: dict) -> str | None:
    return next((fmt for key, fmt in DETECT_KEYS if key in first), None)


def _check_file(path: Path) -> None:
    if path.is_dir():
        raise IngestError(f"{path} is a directory. Point at a file inside it.")
    if not path.is_file():
        raise IngestError(f"{path}: no such file. Check the path and try again.")
    try:
        with path.open("rb") as f:
            f.read(1)
    except OSError as exc:
        raise _unreadable(path, exc) from exc


def _unreadable(path: Path, exc: OSError) -> IngestError:
    return IngestError(
        f"{path}: cannot read the file ({exc.strerror or exc}). "
        "Check that you may read it (its permissions), or copy it somewhere readable, and try again."
    )


def _decode(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    if not data.strip():
        raise IngestError(f"{path}: the file is empty. Point at a file with records.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise IngestError(
            f"{path}:{line}: not valid UTF-8 (byte {exc.start}). Re-save the file as UTF-8 and import again."
        ) from exc


def _read_json(fmt: str | None) -> Callable[[Path, str | None], tuple[str, list]]:
    """A reader for JSON or JSONL in flavour `fmt`, or in the flavour its first record shows."""

    def read(path: Path, column: str | None) -> tuple[str, list]:
        source = str(path)
        values = list(readers.json_records(_decode(path), source))
        if not values:
            return fmt or "alpaca", []
        found = fmt or _detect(values[0][1], source, column)
        convert = readers.column_messages(column) if column else JSON_FORMATS[found]
        return found, [readers.to_record(line, value, convert, source, raw) for line, value, raw in values]

    return read


def _csv_reader(fmt: str, header: bool) -> Callable[[Path, str | None], tuple[str, list]]:
    """CSV whose first row names the columns, or (`header` False) is data like the rest."""

    def read(path: Path, column: str | None) -> tuple[str, list]:
        source = str(path)
        names, rows = readers.csv_rows(_decode(path), source, header)
        convert = readers.column_messages(_pick_column(names, column, source))
        return fmt, [readers.to_record(line, row, convert, source) for line, row in rows]

    return read


def _detect(first, source: str, column: str | None) -> str:
    if column or not isinstance(first, dict):
        return "alpaca"
    if found := _flavour(first):
        return found
    keys = ", ".join(sorted(first)) or "none"
    raise IngestError(
        f"{source}: cannot tell the format from the first record (keys: {keys}).", hint="format"
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
        f"{source}: no column is named 'instruction' or 'prompt'.",
        hint="column",
        columns=", ".join(columns) or "none",
    )


def _parquet_columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    try:
        return list(pq.read_schema(path).names)
    except Exception as exc:  # pyarrow raises several unrelated types for bad files
        raise IngestError(f"{path}: not a readable Parquet file ({exc}).") from exc


def _read_parquet(path: Path, column: str | None) -> tuple[str, list]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several unrelated types for bad files
        raise IngestError(f"{path}: not a readable Parquet file ({exc}).") from exc
    convert = readers.column_messages(_pick_column(table.column_names, column, str(path)))
    rows = table.to_pylist()
    return "parquet", [readers.to_record(i, row, convert, str(path)) for i, row in enumerate(rows, 1)]


def _rows(records: list) -> list[tuple]:
    """(line, hash, messages JSON, original JSON) per record, ready for the store."""

    def dumps(value) -> str:
        return orjson.dumps(value, default=str).decode()

    return [(r.line, dedup_hash(r.messages), dumps(r.messages), r.raw or dumps(r.original)) for r in records]


# A reader takes (path, column) and returns (format, records); a new format is one reader and one line.
READERS: dict[str, Callable[[Path, str | None], tuple[str, list]]] = {
    **{fmt: _read_json(fmt) for fmt in JSON_FORMATS},
    "csv": _csv_reader("csv", header=True),
    "csv-no-header": _csv_reader("csv-no-header", header=False),
    "parquet": _read_parquet,
}
FORMATS = tuple(READERS)
# Formats whose records are rows of named columns: how to list the names without reading every row.
COLUMN_READERS: dict[str, Callable[[Path], list[str]]] = {
    "csv": lambda path: readers.csv_header(_decode(path), header=True),
    "csv-no-header": lambda path: readers.csv_header(_decode(path), header=False),
    "parquet": _parquet_columns,
}
