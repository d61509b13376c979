"""The `rnr` command end to end: help, the documented flow, errors, and crash recovery."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from rnr_core.cli import COMMANDS, main
from rnr_core.store import Store
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


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help_db_and_json(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([name, "--help"] if name != "samples" else [name, "list", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--db" in out and "--json" in out
    assert COMMANDS[name][0]  # a one-line description for the command list


def test_samples_subcommands_have_help(capsys):
    for action in ("list", "show", "accept", "reject"):
        with pytest.raises(SystemExit):
            main(["samples", action, "--help"])
        assert "--db" in capsys.readouterr().out


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
            "--rejections",
            "1",
            "--db",
            db,
            "--json",
        ).stdout
    )
    assert run["status"] == "completed", run
    assert run["counts"]["samples"] == 5  # 3 plain, 1 tempting, 1 out of scope
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


def test_sigterm_marks_the_run_interrupted(tmp_path):
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
        assert store.list_runs()[0]["status"] == "interrupted"
