"""Is a file a whole DuckDB store? Checked before and just after DuckDB opens it, so that a damaged
store is refused with one message and left untouched (DuckDB would fail later on missing blocks, or
drop a cut log's tail unasked)."""

import fcntl
import re
import struct
from pathlib import Path

import duckdb

from rnr_core.errors import StoreError

# Every DuckDB file starts with an 8-byte checksum, then these magic bytes.
_MAGIC, _MAGIC_AT = b"DUCK", 8
# Then two database headers, each in its own 4 KiB slot; the one with the higher iteration is current.
# Whole blocks follow the three slots. The header's block count is no size: it counts free blocks too,
# and DuckDB trims free blocks off the file's end without lowering it.
_SLOT, _HEADERS = 4096, (4096, 8192)
_HEADER = struct.Struct("<QQQQQQ")  # checksum, iteration, meta block, free list, block count, block size
# What DuckDB says when a query reads a block that lies past the file's end.
_PAST_END = re.compile(r'Could not read enough bytes from file "(?P<path>[^"]+)"')
# The write-ahead log: a version entry, then entries of (size, checksum, payload); a commit ends with
# a flush entry, whose payload is field 100 (the entry type) = 100, then the end-of-object mark.
_WAL_VERSION_TYPE, _WAL_CHECKSUMMED, _WAL_FLUSH = 98, 2, b"\x64\x00\x64\xff\xff"


def check_is_duckdb(path: Path) -> None:
    """Refuse a file that is not DuckDB's before DuckDB sees it: it may try to read it as another format."""
    if not path.is_file():
        return
    try:
        with path.open("rb") as f:
            head = f.read(len(_MAGIC) + _MAGIC_AT)
    except OSError as exc:
        raise not_a_store(str(path), exc.strerror or exc) from exc
    if head[_MAGIC_AT:] != _MAGIC:
        raise not_a_store(str(path), "it is not a DuckDB database file")


def check_whole(path: Path) -> None:
    """Refuse a file cut short, or one whose write-ahead log is, before DuckDB opens it.

    DuckDB replays a log cut short up to its last complete commit, then checkpoints and deletes it: what
    followed is lost unasked. Blocks missing from the file itself are found once it is open.
    """
    if not path.is_file():
        return
    damage = _cut_short(path) or wal_cut_short(path)
    if damage and not _held_elsewhere(path):  # a holder may be writing: connecting names it
        raise not_a_store(str(path), damage)


def _cut_short(path: Path) -> str | None:
    """Why the file cannot be DuckDB's headers followed by whole blocks, or None."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(3 * _SLOT)
    if len(head) < 3 * _SLOT:
        return f"it is cut short: {size:,} bytes, less than DuckDB's {3 * _SLOT:,} bytes of headers"
    current = max((_HEADER.unpack_from(head, at) for at in _HEADERS), key=lambda h: h[1])
    block_size = current[5]
    if not block_size or block_size & (block_size - 1) or block_size > 1 << 24:
        return None  # a header layout this check does not know: DuckDB judges it
    if (size - 3 * _SLOT) % block_size:
        return f"it is cut short: {size:,} bytes, which ends inside one of its {block_size:,}-byte blocks"
    return None


def blocks_missing(con: duckdb.DuckDBPyConnection, path: Path) -> str | None:
    """Why the open file lacks blocks its tables or catalog use, or None; reads metadata only (no data).

    Blocks in use are never past a healthy file's end; a block past the end is read only when a query
    needs it, so without this a store cut short fails later, on whichever query meets the gap first.
    """
    size = path.stat().st_size
    try:
        block_size, used = con.execute(
            "SELECT block_size, used_blocks FROM pragma_database_size() "
            "WHERE database_name = current_database()"
        ).fetchone()
        held = (size - 3 * _SLOT) // block_size
        if used > held:
            return f"it is cut short: it uses {used:,} blocks of {block_size:,} bytes but holds {held:,}"
        highest = _highest_block(con)
    except duckdb.IOException as exc:
        why = past_end(exc, str(path))
        if why is None:
            raise
        return why
    if highest >= held:
        return f"it is cut short: it uses block {highest:,} but holds only {held:,} blocks"
    return None


def _highest_block(con: duckdb.DuckDBPyConnection) -> int:
    """The highest block id the catalog or any table's stored columns use (-1: none)."""
    highest = con.execute("SELECT coalesce(max(block_id), -1) FROM pragma_metadata_info()").fetchone()[0]
    tables = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = current_schema() AND NOT temporary"
    ).fetchall()
    for (table,) in tables:
        used = con.execute(
            "SELECT coalesce(max(block_id), -1) FROM pragma_storage_info(?) WHERE persistent", [table]
        ).fetchone()[0]
        highest = max(highest, used)
    return highest


def past_end(exc: duckdb.Error, path: str) -> str | None:
    """Why, in the damaged-store message's words, when `exc` is a read past the end of the file at `path`."""
    read = _PAST_END.search(str(exc))
    if not isinstance(exc, duckdb.IOException) or not read or not _same_file(read["path"], path):
        return None
    return "it is cut short: a block it uses lies past the end of the file"


def _same_file(a: str, b: str) -> bool:
    return Path(a).expanduser().resolve() == Path(b).expanduser().resolve()


def damaged(exc: BaseException, path: str) -> StoreError | None:
    """The damaged-store error when `exc` is DuckDB reading past the end of the store at `path`, else None."""
    why = past_end(exc, path) if isinstance(exc, duckdb.Error) else None
    return not_a_store(path, why) if why else None


def wal_cut_short(path: Path) -> str | None:
    """Why the store's write-ahead log ends inside an unfinished commit, or None when it is whole."""
    wal = path.with_name(path.name + ".wal")
    size = wal.stat().st_size if wal.is_file() else 0
    if not size:
        return None
    with wal.open("rb") as f:
        end = _wal_last_commit(f, size)
    if end is None or end == size:
        return None
    return (
        f"its write-ahead log {wal} is cut short: {size - end:,} of its {size:,} bytes are an unfinished "
        "write after its last complete commit, which opening it would drop unasked. Back up both files; "
        f"if the program writing it was killed or the machine crashed, 'truncate -s {end} {wal}' "
        "keeps every complete commit"
    )


class _CutInVersion(Exception):
    """The log ends inside its version entry."""


def _wal_last_commit(f, size: int) -> int | None:
    """Where the log's last complete commit ends (0: none), or None for a log this check does not read
    (another version or layout, or encrypted): only a log provably cut inside an entry is damage."""
    head = f.read(256)
    try:
        pos, version = _wal_version(head, whole=len(head) == size)
    except _CutInVersion:
        return 0
    except (IndexError, struct.error, ValueError):
        return None  # not the version entry this check knows: DuckDB judges the log
    if version != _WAL_CHECKSUMMED:
        return None
    end = pos
    while pos + 16 <= size:
        f.seek(pos)
        length = struct.unpack("<Q", f.read(16)[:8])[0]
        if pos + 16 + length > size:
            break
        payload = f.read(len(_WAL_FLUSH) + 1)
        pos += 16 + length
        if payload[:length] == _WAL_FLUSH and length == len(_WAL_FLUSH):
            end = pos
    return end


def _wal_version(head: bytes, whole: bool) -> tuple[int, int]:
    """The end of the log's version entry and the version it names (fields: 100 type, 101 version,
    102 the database's identifier as a list of bytes, 103 the checkpoint iteration). `whole`: `head` is
    the whole log, so running out of it inside an entry that began as a version entry is a cut."""
    pos, fields = 0, {}
    try:
        while True:
            (field,), pos = struct.unpack_from("<H", head, pos), pos + 2
            if field == 0xFFFF:
                break
            if field == 102:
                count, pos = _varint(head, pos)
                for _ in range(count):
                    _, pos = _varint(head, pos)
            else:
                fields[field], pos = _varint(head, pos)
    except (IndexError, struct.error):
        if whole and fields.get(100) == _WAL_VERSION_TYPE:
            raise _CutInVersion from None
        raise
    if fields.get(100) != _WAL_VERSION_TYPE:
        raise ValueError("not a version entry")
    return pos, fields.get(101)


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _held_elsewhere(path: Path) -> bool:
    """Whether another process holds DuckDB's write lock on the file."""
    with path.open("rb") as f:
        try:
            fcntl.lockf(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.lockf(f, fcntl.LOCK_UN)
    return False


def not_a_store(path: str, why) -> StoreError:
    return StoreError(
        f"Cannot open {path} as a DuckDB database ({why}), so it is not a valid RNR store; "
        "it was left untouched. Point --db or RNR_DB at another file (a new path makes a fresh "
        "store), or restore this one from a backup."
    )
