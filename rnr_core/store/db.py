"""The DuckDB connection: opening, locking errors, migrations and transactions."""

import copy
import re
from contextlib import contextmanager
from pathlib import Path

import duckdb

from rnr_core.errors import MigrationError, StoreError, StoreLocked
from rnr_core.store.migrations import MIGRATIONS

_LOCK_HOLDER = re.compile(r"held in (?P<prog>\S+) \(PID (?P<pid>\d+)\)")
# Every DuckDB file starts with an 8-byte checksum, then these magic bytes.
_MAGIC, _MAGIC_AT = b"DUCK", 8


def _connect(path: str) -> duckdb.DuckDBPyConnection:
    """Open the file, turning DuckDB's lock conflict into a message that names the holder."""
    if path != ":memory:":
        _check_is_duckdb(Path(path).expanduser())
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(path)
    except duckdb.Error as exc:
        held = _LOCK_HOLDER.search(str(exc))
        if not held:
            raise _not_a_store(path, exc) from exc
        raise StoreLocked(
            f"The database {path} is in use by another process "
            f"(PID {held['pid']}, {_describe(int(held['pid']), held['prog'])}). DuckDB allows one writer "
            "per file: close that program (another rnr command or the app), "
            "or use a different file with --db or RNR_DB."
        ) from exc


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
        try:
            self._migrate()
        except BaseException:
            self.con.close()  # release the file lock; nothing usable is open
            raise

    def close(self) -> None:
        self.flush_log()
        self.con.close()

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
