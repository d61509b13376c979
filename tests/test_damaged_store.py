"""A store cut short, or its write-ahead log cut short, is refused with the damaged-store message (CLI
exit 2, the app's start page) and left byte for byte as it was."""

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from rnr_core.errors import StoreError
from rnr_core.store import Store
from tests.apptest import APP, TIMEOUT, plain
from tests.conftest import ROOT
from tests.test_audit import add_samples

RNR = [sys.executable, "-m", "rnr_core.cli"]

# A writer that commits one dataset per line it is sent, says so, and never checkpoints: its changes stay
# in the write-ahead log until it is killed.
WRITER = """
import json, sys
from rnr_core.store import Store
store = Store(sys.argv[1])
store.con.execute("SET checkpoint_threshold = '1GB'")
for k, line in enumerate(sys.stdin):
    rows = [(i, f"h{i}", json.dumps([{"role": "user", "content": f"question {i} " * 20}]), "{}")
            for i in range(int(line))]
    store.import_instructions(f"d{k}", "f", "alpaca", rows)
    print("committed", k, flush=True)
"""


def rnr_datasets(db: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*RNR, "datasets", "--json", "--db", str(db)], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def assert_refused_untouched(db: Path, why: str) -> None:
    before = snapshot(db.parent)
    proc = rnr_datasets(db)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "unexpected" not in proc.stderr
    assert f"Cannot open {db}" in proc.stderr and "not a valid RNR store" in proc.stderr
    assert why in proc.stderr and "left untouched" in proc.stderr and "RNR_DB" in proc.stderr
    assert snapshot(db.parent) == before  # the same files, byte for byte: nothing replayed or added


def big_store(db: Path, rows: int = 8000) -> None:
    """A checkpointed store spanning several of DuckDB's blocks."""
    with Store(str(db)) as store:
        data = [
            (i, f"h{i}", json.dumps([{"role": "user", "content": f"ask {i} " * 30}]), "{}")
            for i in range(rows)
        ]
        store.import_instructions("d", "f", "alpaca", data)
    assert db.stat().st_size > 4 * 262144 and not Path(f"{db}.wal").exists()


BLOCK, HEADERS = 262144, 3 * 4096


@pytest.mark.parametrize("inside_a_block", [True, False])
def test_a_store_cut_in_its_data_blocks_exits_2_and_is_left_untouched(tmp_path, inside_a_block):
    db = tmp_path / "rnr.duckdb"
    big_store(db)
    blocks = (db.stat().st_size - HEADERS) // BLOCK
    # Headers intact, the last blocks gone: mid-block, or at a block's edge (found only once it is open).
    os.truncate(db, HEADERS + blocks // 2 * BLOCK + (BLOCK // 3 if inside_a_block else 0))
    assert_refused_untouched(db, "it is cut short")


SCRATCH = "CREATE TABLE IF NOT EXISTS scratch (id INTEGER PRIMARY KEY, s VARCHAR)"


def churn(db: Path, seed: int) -> None:
    """Rounds of writes, deletes, updates and checkpoints, closing the store after each, as real use does."""
    rng = random.Random(seed)

    def insert(store):
        first = rng.randint(0, 10**6)
        store.con.execute(
            "INSERT OR IGNORE INTO scratch SELECT i, repeat('x', i % 90) FROM range(?, ?) r(i)",
            [first, first + rng.choice([100, 30000, 150000])],
        )

    ops = [
        lambda store: store.review(add_samples(store, rng.randint(1, 40)), "accept", "ana"),
        lambda store: store.reindex(),
        insert,
        insert,
        lambda store: store.con.execute("DELETE FROM scratch WHERE hash(id) % ? = 0", [rng.randint(2, 4)]),
        lambda store: store.con.execute("UPDATE scratch SET s = s || 'z' WHERE hash(id) % 3 = 0"),
        lambda store: store.con.execute(f"DROP TABLE scratch; {SCRATCH}"),
        lambda store: store.con.execute("CHECKPOINT"),
    ]
    for _ in range(4):
        with Store(str(db)) as store:
            store.con.execute(SCRATCH)
            for _ in range(rng.randint(2, 6)):
                rng.choice(ops)(store)


@pytest.mark.parametrize("seed", range(4))
def test_a_churned_healthy_store_opens(tmp_path, seed):
    """DuckDB trims free blocks off the file's end but its header still counts them: no damage."""
    db = tmp_path / "rnr.duckdb"
    churn(db, seed)
    with Store(str(db)) as store:
        assert store.schema_version() > 0
    assert rnr_datasets(db).returncode == 0


def test_the_reported_three_rounds_of_samples_reviews_and_reindex_reopen(tmp_path):
    db = tmp_path / "rnr.duckdb"
    for _ in range(3):
        with Store(str(db)) as store:
            store.review(add_samples(store, 30), "accept", "ana")
            store.reindex()
    Store(str(db)).close()


def test_a_query_reading_a_block_past_the_end_is_the_damaged_store_error(tmp_path):
    """A cut the open's check cannot see (the last block holds only a key index, a block below is free)
    fails the first query that reads it: that error is the damaged-store message, naming the file."""
    from rnr_core.store.damage import damaged
    from rnr_core.store.db import _connect

    db = tmp_path / "plain.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, s VARCHAR)")
    con.execute("CREATE TABLE f AS SELECT range AS i, repeat('q', 100) AS s FROM range(300000)")
    con.execute("CHECKPOINT")
    con.execute("INSERT INTO a SELECT i, 'x' FROM range(290000) r(i)")
    con.execute("DROP TABLE f")
    con.close()
    os.truncate(db, db.stat().st_size - BLOCK)
    con = _connect(str(db))  # the open's check passes
    with pytest.raises(duckdb.IOException) as read:
        con.execute("SELECT * FROM a WHERE id = 5").fetchall()
    con.close()
    error = damaged(read.value, str(db))
    assert isinstance(error, StoreError)
    assert f"Cannot open {db}" in str(error) and "cut short" in str(error) and "left untouched" in str(error)
    assert damaged(read.value, str(tmp_path / "other.duckdb")) is None
    assert damaged(duckdb.IOException("No space left on device"), str(db)) is None


def killed_writer(db: Path, sizes: list[int]) -> None:
    """Commit one dataset per size in a real writer process, then SIGKILL it: its log is left behind."""
    Store(str(db)).close()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        for k, size in enumerate(sizes):
            proc.stdin.write(f"{size}\n")
            proc.stdin.flush()
            assert proc.stdout.readline().split() == ["committed", str(k)]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert Path(f"{db}.wal").stat().st_size > 0


def test_a_killed_writers_whole_log_is_replayed(tmp_path):
    db = tmp_path / "rnr.duckdb"
    killed_writer(db, [300, 300, 300])
    proc = rnr_datasets(db)
    assert proc.returncode == 0, proc.stderr
    assert [d["name"] for d in json.loads(proc.stdout)] == ["d0", "d1", "d2"]


def test_a_log_cut_short_exits_2_and_both_files_are_left_untouched(tmp_path):
    db = tmp_path / "rnr.duckdb"
    killed_writer(db, [300, 300, 3000])
    wal = Path(f"{db}.wal")
    os.truncate(wal, wal.stat().st_size - 1000)  # inside the last commit
    assert_refused_untouched(db, f"its write-ahead log {wal} is cut short")
    # What the message offers keeps the complete commits: the first two datasets.
    end = int(rnr_datasets(db).stderr.split("truncate -s ")[1].split()[0])
    os.truncate(wal, end)
    proc = rnr_datasets(db)
    assert proc.returncode == 0, proc.stderr
    assert [d["name"] for d in json.loads(proc.stdout)] == ["d0", "d1"]


def test_a_log_cut_inside_its_version_entry_is_refused(tmp_path):
    db = tmp_path / "rnr.duckdb"
    killed_writer(db, [10])
    os.truncate(f"{db}.wal", 20)
    assert_refused_untouched(db, "is cut short")


UNREADABLE = {
    "an unknown version entry": lambda log: b"\xc8\x00" + log[2:],  # its first field is not 100, the type
    "an encrypted log": lambda log: bytes(random.Random(7).randbytes(64)) + log[64:],
}


@pytest.mark.parametrize("layout", UNREADABLE)
def test_a_log_this_check_cannot_read_is_no_proof_of_damage(tmp_path, layout):
    """A log in a layout the check does not know (a newer DuckDB, encryption) is left to DuckDB to judge:
    never the cut-short message, nor its advice to truncate the log."""
    from rnr_core.store.damage import wal_cut_short

    db = tmp_path / "rnr.duckdb"
    killed_writer(db, [300])
    wal = Path(f"{db}.wal")
    wal.write_bytes(UNREADABLE[layout](wal.read_bytes()))
    assert wal_cut_short(db) is None
    assert "truncate" not in rnr_datasets(db).stderr


@pytest.mark.parametrize("cut", ["store", "log"])
def test_the_apps_start_page_shows_the_damaged_store_message(tmp_path, monkeypatch, cut):
    db = tmp_path / "rnr.duckdb"
    if cut == "store":
        big_store(db)
        os.truncate(db, db.stat().st_size // 2)
    else:
        killed_writer(db, [300, 3000])
        os.truncate(f"{db}.wal", Path(f"{db}.wal").stat().st_size - 1000)
    before = snapshot(tmp_path)
    monkeypatch.setenv("RNR_DB", str(db))
    st.cache_resource.clear()
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    shown = plain(at.error[0].value)
    assert f"Cannot open {db}" in shown and "cut short" in shown and "not a valid RNR store" in shown
    assert snapshot(tmp_path) == before
