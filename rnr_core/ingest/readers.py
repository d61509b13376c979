"""Pure readers: decoded text in, (line number, messages, original record) out."""

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass

import orjson

from rnr_core.errors import IngestError
from rnr_core.messages import check_messages

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
        value, end = decoder.raw_decode(text, pos)
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


def csv_rows(text: str, source: str) -> tuple[list[str], list[tuple[int, dict]]]:
    """The header and (line, row) pairs of a CSV file."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise IngestError(
            f"{source}:{reader.line_num}: unreadable CSV ({exc}). Fix that row and import again."
        ) from exc
    return list(reader.fieldnames or []), rows


def to_record(line: int, value, convert, source: str, raw: str | None = None) -> Record:
    """Convert one raw value, naming file and line on failure; converters return valid messages."""
    if not isinstance(value, dict):
        raise IngestError(f"{source}:{line}: expected a JSON object, got {type(value).__name__}.")
    try:
        messages = convert(value)
    except RecordError as exc:
        raise IngestError(f"{source}:{line}: {exc}. Fix that record and import again.") from exc
    return Record(line, messages, value, raw)
