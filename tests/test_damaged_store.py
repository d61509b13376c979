"""A store cut short, or its write-ahead log cut short, is refused with the damaged-store message (CLI
exit 2, the app's start page) and left byte for byte as it was."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from rnr_core.store import Store
from tests.apptest import APP, TIMEOUT, plain
from tests.conftest import ROOT

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


def test_a_store_cut_in_its_data_blocks_exits_2_and_is_left_untouched(tmp_path):
    db = tmp_path / "rnr.duckdb"
    big_store(db)
    whole = db.stat().st_size
    os.truncate(db, whole // 2)  # headers intact, the last blocks gone
    assert_refused_untouched(db, "it is cut short: its header counts")


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
