"""Pure readers: decoded text in, (line number, messages, original record) out."""

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice, zip_longest

import orjson

from rnr_core.errors import IngestError
from rnr_core.messages import check_messages

# A field may hold a whole document; the csv module's default limit (128 KB) would reject it.
csv.field_size_limit(2**31 - 1)
_QUOTED = re.compile(r'"[^"]*(?:""[^"]*)*"')
_UNQUOTED = re.compile(r"[^,\r\n]*")
_NEWLINE = re.compile(r"\r\n|\r|\n")

SHAREGPT_ROLES = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "chatgpt": "assistant",
    "bard": "assistant",
    "bing": "assistant",
    "system": "system",
}


@dataclass(frozen=True)
class Record:
    line: int
    messages: list[dict]
    original: dict
    raw: str | None = None  # the record's source text, when it was JSON already


class RecordError(ValueError):
    """A record-level problem; the caller adds file and line."""


def json_records(text: str, source: str) -> Iterator[tuple[int, object, str]]:
    """Yield (line, value, source text) from JSONL, or from a single JSON array of records."""
    stripped = text.lstrip()
    if stripped.startswith("["):
        yield from _json_array(text, source)
        return
    # Split on newlines only: JSON strings may hold U+2028 and friends, which splitlines() breaks on.
    for line_no, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise IngestError(
                f"{source}:{line_no}: invalid JSON ({exc.msg} at column {exc.colno}). "
                "Fix or remove that line and try again."
            ) from exc
        yield line_no, value, line.strip()


def _json_array(text: str, source: str) -> Iterator[tuple[int, object, str]]:
    """Check the whole array strictly, then walk it element by element to learn each one's line."""
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise IngestError(
            f"{source}:{exc.lineno}: invalid JSON ({exc.msg} at column {exc.colno}). Fix it and try again."
        ) from exc
    decoder = json.JSONDecoder()
    pos = text.index("[") + 1
    line = text.count("\n", 0, pos) + 1
    while True:
        nxt = _skip(text, pos, ",")
        line += text.count("\n", pos, nxt)
        pos = nxt
        if text[pos] == "]":
            return
        try:
            value, end = decoder.raw_decode(text, pos)
        except RecursionError as exc:  # orjson accepts 1,024 levels; Python's decoder recurses per level
            raise IngestError(
                f"{source}:{line}: a value nested too deeply to read. Flatten that record and import again."
            ) from exc
        yield line, value, text[pos:end]
        line += text.count("\n", pos, end)
        pos = end


def _skip(text: str, pos: int, extra: str) -> int:
    n = len(text)
    while pos < n and (text[pos].isspace() or text[pos] in extra):
        pos += 1
    return pos


def _text_field(record: dict, field: str, required: bool) -> str:
    value = record.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise RecordError(f"missing or empty field '{field}'")
        return ""
    if not isinstance(value, str):
        raise RecordError(f"field '{field}' must be text, got {type(value).__name__}")
    return value


def alpaca_messages(record: dict) -> list[dict]:
    """Alpaca: instruction plus optional input make one user turn; output stays in the original."""
    instruction = _text_field(record, "instruction", required=True)
    extra = _text_field(record, "input", required=False)
    if not extra and isinstance(record.get("instances"), list) and record["instances"]:
        extra = _text_field(record["instances"][0], "input", required=False)
    return [{"role": "user", "content": f"{instruction}\n\n{extra}" if extra else instruction}]


def sharegpt_messages(record: dict) -> list[dict]:
    turns = record.get("conversations")
    if not isinstance(turns, list) or not turns:
        raise RecordError("missing or empty list 'conversations'")
    messages = []
    for i, turn in enumerate(turns):
        if not isinstance(turn, dict) or turn.get("from") not in SHAREGPT_ROLES:
            got = turn.get("from") if isinstance(turn, dict) else turn
            raise RecordError(
                f"conversations[{i}] has 'from' {got!r}; expected one of {', '.join(sorted(SHAREGPT_ROLES))}"
            )
        if not isinstance(turn.get("value"), str):
            raise RecordError(f"conversations[{i}] has no text 'value'")
        messages.append({"role": SHAREGPT_ROLES[turn["from"]], "content": turn["value"]})
    problem = check_messages(messages)
    if problem:
        raise RecordError(f"'conversations': {problem}")
    return messages


def chat_messages(record: dict) -> list[dict]:
    messages = record.get("messages")
    problem = check_messages(messages)
    if problem:
        raise RecordError(f"field 'messages': {problem}")
    return [{"role": m["role"], "content": m["content"]} for m in messages]


def column_messages(column: str):
    """A converter that makes one user turn from a named column."""

    def convert(record: dict) -> list[dict]:
        return [{"role": "user", "content": _text_field(record, column, required=True)}]

    return convert


def csv_rows(text: str, source: str, header: bool = True) -> tuple[list[str], list[tuple[int, dict]]]:
    """The column names and (line, row) pairs of a CSV file; a row's line is the one it starts on.

    Without a `header` row, columns are named by position: 'column 1', 'column 2', ...
    """
    # Strict: a quote left open must fail, not swallow the rest of the file into one field.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    names: list[str] | None = None
    rows, start = [], 1
    try:
        for fields in reader:
            if fields and names is None:
                names = fields if header else position_names(len(fields))
                if not header:
                    rows.append((start, _csv_row(names, fields, source, start)))
            elif fields:  # blank lines are not rows
                rows.append((start, _csv_row(names, fields, source, start)))
            start = reader.line_num + 1
    except csv.Error as exc:
        opened = _open_quote_line(text, start)
        if opened:
            raise IngestError(
                f"{source}:{opened}: a quoted field starts here and is never closed. Close it "
                '(a quote inside a quoted field is written twice: "") and import again.'
            ) from exc
        raise IngestError(
            f"{source}:{reader.line_num}: unreadable CSV ({exc}). Fix that row and import again."
        ) from exc
    return names or [], rows


def csv_header(text: str, header: bool = True) -> list[str]:
    """The column names of a CSV file from its first non-blank row alone."""
    first = next((fields for fields in csv.reader(io.StringIO(text, newline="")) if fields), [])
    return first if header else position_names(len(first))


def position_names(count: int) -> list[str]:
    """Names for the columns of a CSV file without a header row."""
    return [f"column {i}" for i in range(1, count + 1)]


def _csv_row(header: list[str], fields: list[str], source: str, line: int) -> dict:
    if len(fields) > len(header):
        raise IngestError(
            f"{source}:{line}: {len(fields)} fields, but the header names {len(header)}. "
            "Quote fields that contain commas, or fix that row, and import again."
        )
    return dict(zip_longest(header, fields))  # missing trailing fields are None, as in DictReader


def _open_quote_line(text: str, start: int) -> int | None:
    """The line of a quoted field that is never closed, scanning CSV text from line `start`."""
    lines = io.StringIO(text, newline="")  # the same line breaks as the csv module counts
    begin = pos = sum(len(line) for line in islice(lines, start - 1))
    while pos < len(text):
        if text[pos] == '"':
            closed = _QUOTED.match(text, pos)
            if not closed:
                return start + len(_NEWLINE.findall(text, begin, pos))
            pos = closed.end()
            if pos < len(text) and text[pos] not in ",\r\n":
                return None  # malformed another way; the caller reports the csv module's error
        else:
            pos = _UNQUOTED.match(text, pos).end()
        pos += 1  # the delimiter or line break
    return None


def to_record(line: int, value, convert, source: str, raw: str | None = None) -> Record:
    """Convert one raw value, naming file and line on failure; converters return valid messages."""
    if not isinstance(value, dict):
        raise IngestError(f"{source}:{line}: expected a JSON object, got {type(value).__name__}.")
    try:
        messages = convert(value)
    except RecordError as exc:
        raise IngestError(f"{source}:{line}: {exc}. Fix that record and import again.") from exc
    return Record(line, messages, value, raw)
