import subprocess
import sys

import duckdb
import pytest

from rnr_core.errors import MigrationError, StoreLocked
from rnr_core.store import Store
from rnr_core.store import migrations as mig


def test_migrations_run_once_and_record_themselves(tmp_path):
    path = str(tmp_path / "a.duckdb")
    with Store(path) as s:
        assert s.schema_version() == max(v for v, _, _ in mig.MIGRATIONS)
        applied = s._rows("SELECT version, name FROM schema_migrations ORDER BY version")
    with Store(path) as s:  # reopening applies nothing twice
        assert s._rows("SELECT version, name FROM schema_migrations ORDER BY version") == applied


def test_failed_migration_rolls_back_with_its_record(tmp_path, monkeypatch):
    path = str(tmp_path / "b.duckdb")
    Store(path).close()
    broken = (99, "broken", ["CREATE TABLE half_done (x INTEGER)", "SELECT * FROM no_such_table"])
    monkeypatch.setattr(mig, "MIGRATIONS", [*mig.MIGRATIONS, broken])
    monkeypatch.setattr("rnr_core.store.db.MIGRATIONS", mig.MIGRATIONS)
    with pytest.raises(MigrationError, match="Migration 99"):
        Store(path)
    con = duckdb.connect(path)
    assert con.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] < 99
    assert not con.execute("SELECT * FROM duckdb_tables() WHERE table_name = 'half_done'").fetchall()
    con.close()


def test_transaction_rolls_back_on_error(store):
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.con.execute("INSERT INTO datasets (name) VALUES ('x')")
            raise RuntimeError("boom")
    assert store.list_datasets() == []


def test_second_process_gets_a_clear_lock_error(tmp_path):
    path = str(tmp_path / "locked.duckdb")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from rnr_core.store import Store; s = Store(sys.argv[1]); "
            "print('ready', flush=True); time.sleep(60)",
            path,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(StoreLocked) as info:
            Store(path)
        message = str(info.value)
        assert f"PID {holder.pid}" in message
        assert "in use" in message and "--db" in message
    finally:
        holder.kill()
        holder.wait()


def test_sample_status_updates_and_overview(store):
    store.import_instructions("d", "f", "alpaca", [(1, "h1", '[{"role":"user","content":"hi"}]', "{}")])
    did = store.dataset_id("d")
    store.create_run("run-1", did, "m", {})
    sp = store.add_system_prompt("run-1", 0, "You are X.", [], "You are X.", "m", "t")
    sample = {
        "run_id": "run-1",
        "system_prompt_id": sp,
        "instruction_id": 1,
        "kind": "plain",
        "target_rule": None,
        "messages": [{"role": "user", "content": "hi"}],
        "response": "yo",
        "model": "m",
        "template": "t",
        "params": {},
        "seed": 1,
    }
    ids = [store.add_sample({**sample, "item_key": f"k{i}"}) for i in range(3)]
    assert store.set_sample_status(ids[:2], "accepted") == 2
    assert store.set_sample_status([ids[2]], "rejected") == 1
    overview = store.overview()
    assert overview["samples"] == {"pending": 0, "accepted": 2, "rejected": 1}
    assert overview["instructions"] == 1
    with pytest.raises(ValueError):
        store.set_sample_status(ids, "maybe")
    with pytest.raises(duckdb.ConstraintException):  # one sample per run item, never two
        store.add_sample({**sample, "item_key": "k0"})


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path):
    from rnr_core.errors import StoreError

    path = tmp_path / "notes.duckdb"
    path.write_text("just some notes\n")
    with pytest.raises(StoreError, match="Cannot open .*notes.duckdb as a DuckDB database"):
        Store(str(path))
