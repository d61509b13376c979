"""The DuckDB connection: opening, locking errors, migrations and transactions."""

import copy
import fcntl
import random
import re
import struct
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import duckdb

from rnr_core.errors import MigrationError, StoreError, StoreLocked, VersionConflict
from rnr_core.store.migrations import MIGRATIONS

_LOCK_HOLDER = re.compile(r"held in (?P<prog>\S+) \(PID (?P<pid>\d+)\)")
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

# A short write that met another transaction's write on the same rows runs again, up to WRITE_TRIES
# runs in all, after a jittered pause that doubles from WRITE_BACKOFF seconds up to WRITE_PAUSE_MAX:
# DuckDB's concurrency is optimistic, so the loser of a race on a row fails at once instead of waiting
# for the winner, and a pause lets the winner commit (a third of a second at most, in all).
WRITE_TRIES, WRITE_BACKOFF, WRITE_PAUSE_MAX = 8, 0.005, 0.08
BUSY = (
    "Another reviewer or job was changing {what} at the same moment; nothing was changed. "
    "Reload and try again."
)


class Busy(Exception):
    """A write kept conflicting with other transactions on the same rows."""


def conflicted(exc: duckdb.Error) -> bool:
    """Whether DuckDB refused a write because another transaction wrote the same rows first.

    That is a TransactionException: a conflict on a row ("Conflict on update", "... tuple deletion"), or
    at commit a key that a concurrent transaction committed first ("Failed to commit: ... duplicate
    key"). A statement meeting a key already committed raises a ConstraintException instead: the
    writer's own mistake (upserts resolve such keys), which a retry would only repeat.
    """
    text = str(exc)
    return isinstance(exc, duckdb.TransactionException) and (
        "Conflict on" in text or ("Failed to commit" in text and "duplicate key" in text.lower())
    )


def _connect(path: str) -> duckdb.DuckDBPyConnection:
    """Open the file, turning DuckDB's lock conflict into a message that names the holder."""
    if path != ":memory:":
        _check_is_duckdb(Path(path).expanduser())
        _check_whole(Path(path).expanduser())
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(path)
    except duckdb.Error as exc:
        held = _LOCK_HOLDER.search(str(exc))
        if not held:  # DuckDB reads the catalog's blocks as it opens: they may be past the end
            raise _not_a_store(path, _past_end(exc, path) or exc) from exc
        raise StoreLocked(
            f"The database {path} is in use by another process "
            f"(PID {held['pid']}, {_describe(int(held['pid']), held['prog'])}). DuckDB allows one writer "
            "per file: close that program (another rnr command or the app), "
            "or use a different file with --db or RNR_DB."
        ) from exc
    try:
        damage = None if path == ":memory:" else _blocks_missing(con, Path(path).expanduser())
    except BaseException:
        con.close()
        raise
    if damage:
        con.close()  # nothing was written: the file stays as it was
        raise _not_a_store(path, damage)
    return con


def _describe(pid: int, prog: str) -> str:
    """What the holder is, from its command line where the system shows it (the app, or rnr ...)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return prog
    words = [Path(a.decode(errors="replace")).name for a in argv if a][:4]
    if "streamlit" in words:
        return "the RNR Studio app (" + " ".join(words) + ")"
    return " ".join(words) or prog


def _check_is_duckdb(path: Path) -> None:
    """Refuse a file that is not DuckDB's before DuckDB sees it: it may try to read it as another format."""
    if not path.is_file():
        return
    try:
        with path.open("rb") as f:
            head = f.read(len(_MAGIC) + _MAGIC_AT)
    except OSError as exc:
        raise _not_a_store(str(path), exc.strerror or exc) from exc
    if head[_MAGIC_AT:] != _MAGIC:
        raise _not_a_store(str(path), "it is not a DuckDB database file")


def _check_whole(path: Path) -> None:
    """Refuse a file cut short, or one whose write-ahead log is, before DuckDB opens it.

    DuckDB replays a log cut short up to its last complete commit, then checkpoints and deletes it: what
    followed is lost unasked. Blocks missing from the file itself are found once it is open.
    """
    if not path.is_file():
        return
    damage = _cut_short(path) or _wal_cut_short(path)
    if damage and not _held_elsewhere(path):  # a holder may be writing: connecting names it
        raise _not_a_store(str(path), damage)


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


def _blocks_missing(con: duckdb.DuckDBPyConnection, path: Path) -> str | None:
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
        why = _past_end(exc, str(path))
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


def _past_end(exc: duckdb.Error, path: str) -> str | None:
    """Why, in the damaged-store message's words, when `exc` is a read past the end of the file at `path`."""
    read = _PAST_END.search(str(exc))
    if not isinstance(exc, duckdb.IOException) or not read or not _same_file(read["path"], path):
        return None
    return "it is cut short: a block it uses lies past the end of the file"


def _same_file(a: str, b: str) -> bool:
    return Path(a).expanduser().resolve() == Path(b).expanduser().resolve()


def damaged(exc: BaseException, path: str) -> StoreError | None:
    """The damaged-store error when `exc` is DuckDB reading past the end of the store at `path`, else None."""
    why = _past_end(exc, path) if isinstance(exc, duckdb.Error) else None
    return _not_a_store(path, why) if why else None


def _wal_cut_short(path: Path) -> str | None:
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


def _not_a_store(path: str, why) -> StoreError:
    return StoreError(
        f"Cannot open {path} as a DuckDB database ({why}), so it is not a valid RNR store; "
        "it was left untouched. Point --db or RNR_DB at another file (a new path makes a fresh "
        "store), or restore this one from a backup."
    )


class StoreBase:
    """Connection holder; query mixins build on `_rows`, `_one` and `transaction`."""

    def __init__(self, path: str = ":memory:"):
        self.path = str(path)
        self.con = _connect(self.path)
        self._depth = 0
        self._writes = threading.RLock()  # shared by every thread's view: see `retrying`
        try:
            self._migrate()
        except BaseException:
            self.con.close()  # release the file lock; nothing usable is open
            raise

    def close(self) -> None:
        self.flush_log()
        self.con.close()

    def damage(self, exc: BaseException) -> StoreError | None:
        """The damaged-store error when `exc` is a query reading past the end of this store's file."""
        return None if self.path == ":memory:" else damaged(exc, self.path)

    def for_thread(self):
        """A view of the same database with its own cursor, for use by one other thread.

        DuckDB connections must not be shared across threads; cursors of one connection may be.
        Closing the view closes only its cursor.
        """
        view = copy.copy(self)
        view.con = self.con.cursor()
        view._depth, view._buffers = 0, None
        return view

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @contextmanager
    def transaction(self):
        """Run a block atomically; nested uses join the outer transaction."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.con.begin()
        self._depth = 1
        try:
            yield
        except BaseException:
            self.con.rollback()
            raise
        else:
            self.con.commit()
        finally:
            self._depth = 0

    def retrying(self, write, tries: int = WRITE_TRIES):
        """Run `write`, one short transaction, again after a short jittered pause while it meets
        another transaction's write on the same rows; Busy if it still does after `tries` runs.

        Short writes of this process's threads take turns, so two people never race each other (with
        optimistic concurrency the loser of a race on a row would fail at once, and could keep losing);
        what is left to retry is a race with a job's write. Inside an outer transaction it runs once:
        the conflict aborts the outer one, which retries.
        """
        if self._depth:
            return write()
        for attempt in range(tries):
            try:
                with self._writes:
                    return write()
            except duckdb.Error as exc:
                if not conflicted(exc):
                    raise
            if attempt + 1 < tries:
                time.sleep(random.uniform(0.5, 1.5) * min(WRITE_BACKOFF * 2**attempt, WRITE_PAUSE_MAX))
        raise Busy

    def short_write(self, write, what: str):
        """`retrying`, with a lasting conflict said as the VersionConflict the Review page explains, naming
        `what` was being changed ("these samples", "your preferences"), never as DuckDB's own message."""
        try:
            return self.retrying(write)
        except Busy:
            raise VersionConflict(BUSY.format(what=what)) from None

    def _rows(self, sql: str, params=()) -> list[dict]:
        cur = self.con.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    def _one(self, sql: str, params=()) -> dict | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def _scalar(self, sql: str, params=()):
        row = self.con.execute(sql, params).fetchone()
        return row[0] if row else None

    def schema_version(self) -> int:
        return self._scalar("SELECT coalesce(max(version), 0) FROM schema_migrations")

    def _migrate(self) -> None:
        self._refuse_foreign()
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            "version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, "
            "applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)"
        )
        # Every migration not yet recorded, not just those above the highest: a store may have met a
        # later-numbered migration before an earlier one (branches landing in another order).
        applied = {v for (v,) in self.con.execute("SELECT version FROM schema_migrations").fetchall()}
        for version, name, statements in MIGRATIONS:
            if version not in applied:
                self._apply(version, name, statements)

    def _refuse_foreign(self) -> None:
        """Leave another program's DuckDB database alone: migrating would add our tables to it."""
        tables = sorted(t for (t,) in self.con.execute("SELECT table_name FROM duckdb_tables()").fetchall())
        if tables and "schema_migrations" not in tables:
            raise StoreError(
                f"{self.path} is a DuckDB database but not an RNR store (it holds {', '.join(tables[:5])}"
                f"{', ...' if len(tables) > 5 else ''}); it was left untouched. "
                "Point --db or RNR_DB at another file (a new path makes a fresh store)."
            )

    def _apply(self, version: int, name: str, statements: list[str]) -> None:
        try:
            with self.transaction():
                for sql in statements:
                    self.con.execute(sql)
                self.con.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name]
                )
        except duckdb.Error as exc:
            raise MigrationError(
                f"Migration {version} ({name}) failed on {self.path} and was rolled back: {exc}. "
                "Back up the file and report this error."
            ) from exc
