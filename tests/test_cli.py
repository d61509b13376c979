"""The `rnr` command end to end: help, the documented flow, errors, and crash recovery."""

import argparse
import getpass
import json
import os
import pwd
import signal
import subprocess
import sys
import time

import pytest

from rnr_core.cli import COMMANDS, build_parser, main
from rnr_core.store import Store
from tests.app_data import seed
from tests.conftest import DATA, ROOT
from tests.stub_server import StubServer

RNR = [sys.executable, "-m", "rnr_core.cli"]


def rnr(*args, env=None, check=True):
    proc = subprocess.run(
        [*RNR, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=600,
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def help_text(capsys, *args) -> str:
    """The output of `rnr ARGS --help`, which must exit with 0; whitespace collapsed."""
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--help"])
    assert exit_info.value.code == 0
    return " ".join(capsys.readouterr().out.split())


def command_paths(parser, path=()):
    """Every command and subcommand under `parser`, as argument lists (argparse has no public walk)."""
    yield path
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from command_paths(child, (*path, name))


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help_db_and_json(name, capsys):
    out = help_text(capsys, *([name] if name != "samples" else [name, "list"]))
    assert "--db" in out and "--json" in out
    description = COMMANDS[name][0]
    assert description and description in help_text(capsys, name)
    assert f"{name} {description}" in help_text(capsys)  # the command list shows it


def test_samples_subcommands_have_help(capsys):
    for action in ("list", "show", "accept", "reject"):
        assert "--db" in help_text(capsys, "samples", action)


@pytest.mark.parametrize("path", list(command_paths(build_parser())), ids=lambda p: " ".join(p) or "rnr")
def test_help_of_every_command_and_subcommand(path, capsys):
    assert help_text(capsys, *path).startswith("usage: rnr")


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_top_level_help(flag):
    out = rnr(flag).stdout
    assert all(name in out for name in COMMANDS) and "--debug" in out


@pytest.mark.slow
def test_documented_flow_on_the_embedded_model(tmp_path):
    db = str(tmp_path / "flow.duckdb")
    ingested = json.loads(
        rnr("ingest", str(DATA / "demo_alpaca.jsonl"), "--name", "demo", "--db", db, "--json").stdout
    )
    assert ingested["added"] == ingested["read"] > 0
    run = json.loads(
        rnr(
            "generate",
            "--dataset",
            "demo",
            "--model",
            "local",
            "-n",
            "3",
            "--k",
            "3",
            "--rules",
            "2",
            "--max-tokens",
            "48",
            "--seed",
            "1",
            "--no-quality-gate",  # the embedded 135M model rarely writes a prompt that passes
            "--rejections",
            "1",
            "--db",
            db,
            "--json",
        ).stdout
    )
    assert run["status"] == "completed", run
    assert run["counts"]["samples"] == 5  # 3 plain, 1 tempting, 1 out of scope
    assert run["started_by"] == getpass.getuser()  # who started it, as the app records its login
    judged = json.loads(rnr("judge", "--run", run["id"], "--judge", "local", "--db", db, "--json").stdout)
    assert judged["checker_verdicts"] == 0  # generation already checked the verifiable rule
    assert judged["llm_verdicts"] + judged["unknown"] == 5  # one free-form rule per sample
    listed = json.loads(rnr("samples", "list", "--limit", "5", "--db", db, "--json").stdout)
    assert len(listed) == 5 and all(s["response"].strip() for s in listed)
    assert all(s["outcome"] in ("pass", "fail", "unjudged") and s["verdicts"] for s in listed)
    shown = rnr("samples", "show", str(listed[0]["id"]), "--db", db).stdout
    assert "[system]" in shown and "Rules:" in shown and "[assistant]" in shown
    assert "[verdicts]" in shown and "checker" in shown
    stats = json.loads(rnr("stats", "--json", "--db", db).stdout)
    assert stats["samples"]["pending"] == 5 and stats["llm_calls"]["completion_tokens"] > 0
    quality = stats["quality"]
    assert quality["judged_samples"] + quality["unjudged_samples"] == 5
    assert sum(r["n"] for r in quality["by_kind"].values()) == 5 + judged["llm_verdicts"]
    passed = sum(s["outcome"] == "pass" for s in listed)
    default = rnr("export", "--out", str(tmp_path / "passed"), "--db", db, "--json", check=False)
    if passed:  # by default only samples that passed every verdict go out
        assert sum(json.loads(default.stdout)["counts"].values()) == passed
    else:
        assert default.returncode == 2 and "rnr judge" in default.stderr
    out = tmp_path / "export"
    manifest = json.loads(
        rnr(
            "export", "--out", str(out), "--format", "messages", "--include-failing", "--db", db, "--json"
        ).stdout
    )
    assert sum(manifest["counts"].values()) == 5
    rows = [
        json.loads(line) for f in ("train.jsonl", "test.jsonl") for line in (out / f).read_text().splitlines()
    ]
    assert all(
        r["messages"][0]["role"] == "system" and r["messages"][-1]["role"] == "assistant" for r in rows
    )


def test_db_comes_from_rnr_db_then_rnr_home(tmp_path):
    rnr(
        "ingest",
        str(DATA / "demo_sharegpt.jsonl"),
        "--name",
        "s",
        env={"RNR_DB": str(tmp_path / "env.duckdb")},
    )
    assert (tmp_path / "env.duckdb").exists()
    env = {"RNR_HOME": str(tmp_path / "home")}
    env_without_db = {k: v for k, v in os.environ.items() if k != "RNR_DB"}
    subprocess.run(
        [*RNR, "datasets"], check=True, cwd=ROOT, env={**env_without_db, **env}, capture_output=True
    )
    assert (tmp_path / "home" / "rnr.duckdb").exists()


def test_errors_are_messages_not_tracebacks(tmp_path):
    db = str(tmp_path / "e.duckdb")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"instruction": "fine"}\n{"instruction": \n')
    proc = rnr("ingest", str(bad), "--name", "x", "--db", db, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"{bad}:2: invalid JSON" in proc.stderr
    proc = rnr("generate", "--dataset", "nope", "--db", db, check=False)
    assert proc.returncode == 2 and "rnr ingest" in proc.stderr
    proc = rnr("generate", "--dataset", "x", "--model", "bogus", "--db", db, check=False)
    assert "Valid forms" in proc.stderr
    proc = rnr("samples", "show", "999", "--db", db, "--json", check=False)
    assert proc.returncode == 2 and "No sample 999" in proc.stderr
    assert "No sample 999" in json.loads(proc.stdout)["error"]
    proc = rnr("samples", "list", "--limit", "-1", "--db", db, check=False)
    assert proc.returncode == 2 and "negative" in proc.stderr
    proc = rnr("generate", "--resume", "run-x", "--dataset", "x", "--db", db, check=False)
    assert proc.returncode == 2 and "drop --dataset" in proc.stderr


def test_unknown_sample_ids_are_an_error(tmp_path):
    db = str(tmp_path / "s.duckdb")
    ids = seed(db)
    for action, extra in (("accept", []), ("reject", ["--reason", "other"])):
        proc = rnr("samples", action, "999999", str(ids["plain"]), "7", *extra, "--db", db, check=False)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert "No sample with id 7, 999999; nothing was changed" in proc.stderr
        assert "'rnr samples list' shows the ids" in proc.stderr and "review queue" not in proc.stderr
    with Store(db) as store:  # the known id was left as it was, and no action recorded
        assert store.get_sample(ids["plain"])["status"] == "pending"
        assert store._scalar("SELECT count(*) FROM review_actions") == 0


def test_accept_and_reject_record_the_reviewer_and_a_review_action(tmp_path):
    db = str(tmp_path / "s.duckdb")
    ids = seed(db)
    one, two = ids["plain"], ids["disputed"]
    done = json.loads(rnr("samples", "accept", str(one), "--db", db, "--json").stdout)
    assert done == {
        "status": "accepted",
        "changed": 1,
        "reviewer": getpass.getuser(),
        "reason": None,
        "samples": [{"id": one, "outcome": "decided", "status": "accepted", "decisions": 1, "needed": 1}],
    }
    said = rnr(
        "samples",
        "reject",
        str(one),
        str(two),
        "--reason",
        "unsafe",
        "--note",
        " leaks ",
        "--reviewer",
        "ana",
        "--db",
        db,
    ).stdout
    assert said.strip() == "2 samples rejected by ana"
    with Store(db) as store:
        for sample_id in (one, two):
            sample = store.get_sample(sample_id)
            assert (sample["status"], sample["reviewer"], sample["reject_reason"]) == (
                "rejected",
                "ana",
                "unsafe",
            )
            assert sample["review_note"] == "leaks" and sample["reviewed_at"] is not None
        actions = store._rows(
            "SELECT sample_id, action, reviewer, reason, note FROM review_actions ORDER BY action, sample_id"
        )
    assert actions == [
        {"sample_id": one, "action": "accept", "reviewer": getpass.getuser(), "reason": None, "note": None},
        *(
            {"sample_id": i, "action": "reject", "reviewer": "ana", "reason": "unsafe", "note": "leaks"}
            for i in sorted([one, two])
        ),
    ]


def test_with_two_reviews_per_sample_one_decision_is_said_to_wait_and_disagreement_is_disputed(tmp_path):
    db = str(tmp_path / "s.duckdb")
    ids = seed(db)
    one, two = sorted([ids["plain"], ids["disputed"]])
    rnr("tasks", "review", "--labels-per-item", "2", "--by", "lead", "--db", db)
    said = rnr("samples", "accept", str(one), str(two), "--reviewer", "dan", "--db", db).stdout
    assert said.splitlines() == [
        "dan's decision (accepted) is recorded on 2 samples:",
        "  2 samples still pending until enough reviewers decide (decided so far): "
        f"{one} (1 of 2), {two} (1 of 2)",
    ]
    args = ["--reviewer", "eve", "--db", db, "--json"]
    done = json.loads(rnr("samples", "reject", str(one), "--reason", "other", *args).stdout)
    assert done["samples"] == [
        {"id": one, "outcome": "disputed", "status": "pending", "decisions": 2, "needed": 2}
    ]
    assert (
        "1 sample disputed (the reviewers disagree), waiting for an adjudicator: "
        in rnr("samples", "reject", str(one), "--reason", "other", "--reviewer", "eve", "--db", db).stdout
    )
    done = json.loads(rnr("samples", "accept", str(two), *args).stdout)
    assert done["samples"] == [
        {"id": two, "outcome": "decided", "status": "accepted", "decisions": 2, "needed": 2}
    ]
    assert (
        rnr("samples", "accept", str(two), "--reviewer", "eve", "--db", db).stdout
        == "1 sample accepted by eve\n"
    )


def test_who_acts_is_the_os_user_and_a_clear_error_when_there_is_none(tmp_path, monkeypatch, capsys):
    """Without USER/LOGNAME and with no entry in the user list (a bare container), every command still
    runs; one that records who acts asks for --reviewer or --by, and the flags work."""
    db = str(tmp_path / "s.duckdb")
    ids = seed(db)
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.delenv(name, raising=False)

    def no_entry(uid):
        raise KeyError(f"getpwuid(): uid not found: {uid}")  # what the lookup raises for an unlisted uid

    monkeypatch.setattr(pwd, "getpwuid", no_entry)
    assert main(["tasks", "--db", db]) == 0
    acts = (
        (["samples", "accept", str(ids["plain"])], "--reviewer"),
        (["tasks", "review", "--labels-per-item", "2"], "--by"),
    )
    for args, flag in acts:
        capsys.readouterr()
        assert main([*args, "--db", db]) == 2
        said = capsys.readouterr().err
        assert "Cannot tell who you are" in said and f"Pass {flag} NAME" in said and "unexpected" not in said
        assert main([*args, flag, "kim", "--db", db]) == 0
    with Store(db) as store:
        assert store.get_sample(ids["plain"])["reviewer"] == "kim"
        assert store.task_settings()["review"]["set_by"] == "kim"


@pytest.mark.parametrize(
    "args, says",
    [
        (["reject", "1"], "the following arguments are required: --reason"),
        (["reject", "1", "--reason", "meh"], "invalid choice: 'meh'"),
        (["accept", "1", "--reviewer", "  "], "--reviewer: is blank"),
    ],
)
def test_review_flags_are_checked(tmp_path, args, says):
    proc = rnr("samples", *args, "--db", str(tmp_path / "s.duckdb"), check=False)
    assert proc.returncode == 2 and says in proc.stderr


@pytest.mark.parametrize("name", ["", "  "])
def test_empty_dataset_name_is_an_error(tmp_path, name):
    proc = rnr(
        "ingest", str(DATA / "demo_alpaca.jsonl"), "--name", name, "--db", str(tmp_path / "n"), check=False
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "--name" in proc.stderr


def test_a_file_that_is_not_a_store_is_named_and_left_alone(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"my notes, not a database\n")
    proc = rnr("datasets", env={"RNR_DB": str(path)}, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"{path}" in proc.stderr and "not a valid RNR store" in proc.stderr and "RNR_DB" in proc.stderr
    assert path.read_bytes() == b"my notes, not a database\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_debug_flag_and_rnr_debug_show_the_traceback(tmp_path):
    args = ["ingest", str(tmp_path / "missing.jsonl"), "--name", "x", "--db", str(tmp_path / "d.duckdb")]
    plain = rnr(*args, check=False)
    assert plain.returncode == 2 and "Traceback" not in plain.stderr and "no such file" in plain.stderr
    for proc in (rnr("--debug", *args, check=False), rnr(*args, env={"RNR_DEBUG": "1"}, check=False)):
        assert proc.returncode == 2 and "Traceback" in proc.stderr and "IngestError" in proc.stderr
        assert proc.stderr.rstrip().endswith(plain.stderr.rstrip())  # the same message, after the trace


def explode(args, store):
    raise RuntimeError("a bug")


@pytest.mark.parametrize("debug", [False, True])
def test_unexpected_errors_say_so_and_exit_1(tmp_path, capsys, monkeypatch, debug):
    monkeypatch.setitem(COMMANDS, "explode", ("fail with a bug", lambda p: None, explode))
    monkeypatch.delenv("RNR_DEBUG", raising=False)
    code = main([*(["--debug"] if debug else []), "explode", "--db", str(tmp_path / "x.duckdb"), "--json"])
    captured = capsys.readouterr()
    assert code == 1 and "Error: unexpected RuntimeError: a bug" in captured.err
    assert "unexpected RuntimeError" in json.loads(captured.out)["error"]
    assert ("Traceback" in captured.err) is debug
    assert ("Rerun with --debug" in captured.err) is not debug


def test_runs_shows_the_raw_output_of_failed_items(tmp_path):
    db = str(tmp_path / "r.duckdb")
    raw = "start " + "x" * 1000 + " the end"
    with Store(db) as store:
        store.import_instructions("d", "f", "alpaca", [(1, "h", '[{"role":"user","content":"hi"}]', "{}")])
        store.create_run("run-1", store.dataset_id("d"), "m", {"seed": 1})
        store.record_item("run-1", "g0/system", "system", "failed", 3, "not JSON", raw)
        store.record_item("run-1", "g0/i1", "response", "failed", 1, "refused", None)
    short = rnr("runs", "run-1", "--db", db).stdout
    assert "g0/system: not JSON\n    raw output: start xxx" in short and "the end" not in short
    assert "(1014 characters; --full shows all)" in short and "g0/i1: refused" in short
    assert raw in rnr("runs", "run-1", "--full", "--db", db).stdout
    shown = json.loads(rnr("runs", "run-1", "--db", db, "--json").stdout)
    assert [i["raw_output"] for i in shown["failed_items"]] == [None, raw]  # ordered by item key


SP = json.dumps(
    {
        "role": "You are a concise travel helper.",
        "rules": [
            {"text": "Use at most two sentences.", "category": "length"},
            {"text": "Do not recommend airlines.", "category": "content"},
        ],
    }
)


def slow_answer(body):
    """Every call takes 0.25 s; system-prompt requests get valid JSON."""
    return ("sleep", 0.25, ("ok", SP if "response_format" in body else "Sure: go by train."))


def test_killed_run_resumes_without_duplicates_or_repaid_calls(tmp_path):
    db = str(tmp_path / "kill.duckdb")
    rnr("ingest", str(DATA / "demo_alpaca.jsonl"), "--name", "demo", "--db", db)
    with StubServer(default=slow_answer) as stub:
        spec = f"openai:stub@{stub.url}"
        proc = subprocess.Popen(
            [
                *RNR,
                "generate",
                "--dataset",
                "demo",
                "--model",
                spec,
                "-n",
                "6",
                "--k",
                "3",
                "--rules",
                "2",
                "--verifiable-share",
                "0",
                "--db",
                db,
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while len(stub.requests) < 9 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        with Store(db) as store:
            run_id = store.list_runs()[0]["id"]
            answered_before = store._scalar("SELECT count(*) FROM llm_calls WHERE status = 'ok'")
            samples_before = store._scalar("SELECT count(*) FROM samples")
        assert 0 < samples_before < 10, "the kill should land mid-run"
        asked_before = len(stub.requests)
        final = json.loads(rnr("generate", "--resume", run_id, "--db", db, "--json").stdout)
    assert final["status"] == "completed"
    with Store(db) as store:
        keys = [r[0] for r in store.con.execute("SELECT item_key FROM samples").fetchall()]
    assert len(keys) == len(set(keys)) == 10  # 6 plain + 2 tempting + 2 out of scope
    # 12 items need 12 answers; only those not logged before the kill were asked again
    assert len(stub.requests) - asked_before == 12 - answered_before


def test_unreachable_endpoint_fails_the_run_and_resume_finishes_it(tmp_path):
    from tests.conftest import free_port

    db, port = str(tmp_path / "down.duckdb"), free_port()
    rnr("ingest", str(DATA / "demo_alpaca.jsonl"), "--name", "demo", "--db", db)
    spec = f"openai:stub@http://127.0.0.1:{port}/v1"
    args = [
        "--model",
        spec,
        "-n",
        "3",
        "--k",
        "3",
        "--rules",
        "2",
        "--verifiable-share",
        "0",
        "--db",
        db,
        "--json",
    ]
    down = rnr("generate", "--dataset", "demo", *args, check=False)
    assert down.returncode == 3 and "Traceback" not in down.stderr
    failed = json.loads(down.stdout)
    assert failed["status"] == "failed" and "Cannot reach" in failed["error"]
    assert f"--resume {failed['id']}" in rnr("runs", failed["id"], "--db", db).stdout
    with StubServer(default=lambda body: ("ok", SP if "response_format" in body else "Fine."), port=port):
        done = json.loads(rnr("generate", "--resume", failed["id"], "--db", db, "--json").stdout)
    assert done["status"] == "completed" and done["counts"]["samples"] == 5


@pytest.mark.slow
def test_generate_through_the_real_llama_server(tmp_path, llama_server):
    db = str(tmp_path / "srv.duckdb")
    rnr("ingest", str(DATA / "demo_chat.jsonl"), "--name", "chat", "--db", db)
    run = json.loads(
        rnr(
            "generate",
            "--dataset",
            "chat",
            "--model",
            f"openai:smollm2@{llama_server}",
            "-n",
            "2",
            "--k",
            "2",
            "--rules",
            "2",
            "--max-tokens",
            "32",
            "--no-tempting",
            "--no-quality-gate",
            "--seed",
            "1",
            "--db",
            db,
            "--json",
        ).stdout
    )
    assert run["status"] == "completed" and run["counts"]["samples"] == 3
    with Store(db) as store:
        sample = store.list_samples(limit=1)[0]
        usage = store._one(
            "SELECT sum(prompt_tokens) AS p, sum(completion_tokens) AS c, min(latency_ms) AS l FROM llm_calls"
        )
    assert len(sample["rules"]) == 2 and all(r["category"] for r in sample["rules"])
    assert usage["p"] > 0 and usage["c"] > 0 and usage["l"] > 0


def test_sigterm_marks_the_run_cancelled(tmp_path):
    db = str(tmp_path / "term.duckdb")
    rnr("ingest", str(DATA / "demo_alpaca.jsonl"), "--name", "demo", "--db", db)
    with StubServer(default=slow_answer) as stub:
        proc = subprocess.Popen(
            [
                *RNR,
                "generate",
                "--dataset",
                "demo",
                "--model",
                f"openai:stub@{stub.url}",
                "-n",
                "6",
                "--db",
                db,
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while len(stub.requests) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "Started run-" in err and "--resume run-" in err
    with Store(db) as store:
        assert store.list_runs()[0]["status"] == "cancelled"
