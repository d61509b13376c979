import subprocess
import sys
import time

import duckdb
import pytest

from rnr_core.errors import MigrationError, NotFound, StoreError, StoreLocked
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
    ids = [store.add_sample(_sample(sp, f"k{i}")) for i in range(3)]
    assert store.set_sample_status(ids[:2], "accepted") == 2
    assert store.set_sample_status([ids[2]], "rejected") == 1
    overview = store.overview()
    assert overview["samples"] == {"pending": 0, "accepted": 2, "rejected": 1}
    assert overview["instructions"] == 1
    with pytest.raises(ValueError):
        store.set_sample_status(ids, "maybe")
    with pytest.raises(duckdb.ConstraintException):  # one sample per run item, never two
        store.add_sample(_sample(sp, "k0"))


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path):
    from rnr_core.errors import StoreError

    path = tmp_path / "notes.duckdb"
    path.write_text("just some notes\n")
    with pytest.raises(StoreError, match="Cannot open .*notes.duckdb as a DuckDB database"):
        Store(str(path))


def test_unknown_sample_ids_change_nothing(store):
    store.import_instructions("d", "f", "alpaca", [(1, "h1", '[{"role":"user","content":"hi"}]', "{}")])
    store.create_run("run-1", store.dataset_id("d"), "m", {})
    sp = store.add_system_prompt("run-1", 0, "You are X.", [], "You are X.", "m", "t")
    known = store.add_sample(_sample(sp, "k0"))
    for status in ("accepted", "rejected"):
        with pytest.raises(NotFound, match="No sample with id 999999; nothing was changed"):
            store.set_sample_status([known, 999999], status)
        assert store.get_sample(known)["status"] == "pending"


def _rnr_store_bytes(tmp_path) -> bytes:
    path = tmp_path / "real.duckdb"
    with Store(str(path)) as s:
        s.import_instructions("d", "f", "alpaca", [(1, "h1", '[{"role":"user","content":"hi"}]', "{}")])
    data = path.read_bytes()
    path.unlink()
    return data


def _foreign_duckdb_bytes(tmp_path) -> bytes:
    path = tmp_path / "foreign.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE sales AS SELECT range AS x FROM range(10)")
    con.close()
    data = path.read_bytes()
    path.unlink()
    return data


NOT_STORES = [
    ("text", lambda tmp: b"just some notes\n", "not a DuckDB database file"),
    ("empty", lambda tmp: b"", "not a DuckDB database file"),
    ("zip", lambda tmp: b"PK\x03\x04" + bytes(200), "not a DuckDB database file"),
    ("sqlite", lambda tmp: b"SQLite format 3\x00" + bytes(4080), "not a DuckDB database file"),
    ("store cut to 100 bytes", lambda tmp: _rnr_store_bytes(tmp)[:100], "not a valid RNR store"),
    ("store cut after its headers", lambda tmp: _rnr_store_bytes(tmp)[:12288], "not a valid RNR store"),
    ("store cut to 16 KB", lambda tmp: _rnr_store_bytes(tmp)[:16384], "not a valid RNR store"),
    ("another program's DuckDB", _foreign_duckdb_bytes, "a DuckDB database but not an RNR store.*sales"),
]


@pytest.mark.parametrize("make, message", [c[1:] for c in NOT_STORES], ids=[c[0] for c in NOT_STORES])
def test_a_file_that_is_not_a_store_is_refused_and_left_untouched(tmp_path, make, message):
    content = make(tmp_path)
    path = tmp_path / "rnr.duckdb"
    path.write_bytes(content)
    with pytest.raises(StoreError, match=message) as info:
        Store(str(path))
    assert str(path) in str(info.value) and "--db or RNR_DB" in str(info.value)
    assert path.read_bytes() == content
    assert [p.name for p in tmp_path.iterdir()] == ["rnr.duckdb"]  # no WAL or other file beside it


def _sample(system_prompt_id: int, item_key: str) -> dict:
    """The columns of one plain sample of run-1."""
    return {
        "run_id": "run-1",
        "item_key": item_key,
        "system_prompt_id": system_prompt_id,
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


def test_pickers_list_runs_newest_first_and_dataset_names(tmp_path):
    from tests.app_data import seed

    seed(tmp_path / "p.duckdb")
    with Store(str(tmp_path / "p.duckdb")) as store:
        store.create_run("run-later", store.dataset_id("demo"), "scripted", {"dataset": "demo"})
        store.con.execute("UPDATE runs SET created_at = created_at + INTERVAL 1 HOUR WHERE id = 'run-later'")
        assert store.run_statuses() == {"run-later": "running", "run-fixture": "completed"}
        assert list(store.run_statuses()) == ["run-later", "run-fixture"]
        assert store.dataset_names() == ["demo"]


def test_change_token_moves_with_every_kind_of_write(tmp_path):
    from tests.app_data import seed

    ids = seed(tmp_path / "t.duckdb")
    with Store(str(tmp_path / "t.duckdb")) as store:
        seen = [store.change_token()]
        writes = [
            lambda: store.review([ids["plain"]], "accept", "ada"),
            lambda: store.add_verdicts(ids["plain"], "human:ada", [{"rule_id": "r2", "verdict": "fail"}]),
            lambda: store.set_run_status("run-fixture", "failed", "x"),
        ]
        for write in writes:
            time.sleep(0.002)  # timestamps must be able to move
            write()
            seen.append(store.change_token())
        assert len(set(seen)) == len(seen)
        assert store.change_token() == seen[-1]  # and stays put without writes
