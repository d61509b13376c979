"""The DuckDB connection: opening, locking errors, migrations and transactions."""

import copy
import random
import re
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa

from rnr_core.errors import MigrationError, StoreError, StoreLocked, VersionConflict
from rnr_core.store.damage import (
    blocks_missing,
    check_is_duckdb,
    check_whole,
    damaged,
    not_a_store,
    past_end,
)
from rnr_core.store.migrations import MIGRATIONS

_LOCK_HOLDER = re.compile(r"held in (?P<prog>\S+) \(PID (?P<pid>\d+)\)")

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
        check_is_duckdb(Path(path).expanduser())
        check_whole(Path(path).expanduser())
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(path)
    except duckdb.Error as exc:
        held = _LOCK_HOLDER.search(str(exc))
        if not held:  # DuckDB reads the catalog's blocks as it opens: they may be past the end
            raise not_a_store(path, past_end(exc, path) or exc) from exc
        raise StoreLocked(
            f"The database {path} is in use by another process "
            f"(PID {held['pid']}, {_describe(int(held['pid']), held['prog'])}). DuckDB allows one writer "
            "per file: close that program (another rnr command or the app), "
            "or use a different file with --db or RNR_DB."
        ) from exc
    try:
        damage = None if path == ":memory:" else blocks_missing(con, Path(path).expanduser())
    except BaseException:
        con.close()
        raise
    if damage:
        con.close()  # nothing was written: the file stays as it was
        raise not_a_store(path, damage)
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

    def insert_columnar(
        self, table: str, columns: tuple, rows: list[tuple], types: dict, replace: bool = False
    ) -> None:
        """Insert `rows` (tuples in `columns` order; strings unless `types` says) in one columnar statement:
        DuckDB's executemany runs row by row, about 2 ms a row. `replace` overwrites rows with that key."""
        if not rows:
            return
        data = pa.table({c: pa.array(col, types.get(c, pa.string())) for c, col in zip(columns, zip(*rows))})
        self.con.register("_columnar_rows", data)
        try:
            cols = ", ".join(columns)
            verb = "INSERT OR REPLACE" if replace else "INSERT"
            self.con.execute(f"{verb} INTO {table} ({cols}) SELECT {cols} FROM _columnar_rows")
        finally:
            self.con.unregister("_columnar_rows")

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
