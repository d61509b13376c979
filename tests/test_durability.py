"""A killed run must not pay twice: every answered call is durable within a fraction of a second."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

from rnr_core.store import Store
from tests.conftest import DATA, GOOD_SP, ROOT
from tests.stub_server import StubServer

RNR = [sys.executable, "-m", "rnr_core.cli"]


class Gate:
    """Answers the first `admit` requests (a system-prompt request's first try is invalid JSON),
    then holds every later request until released, so the kill lands with answered items unfinished."""

    def __init__(self, admit: int):
        self.admit, self.answered, self.seen_sp = admit, [], set()
        self.lock, self.open = threading.Lock(), threading.Event()

    def __call__(self, body):
        with self.lock:
            held = len(self.answered) >= self.admit and not self.open.is_set()
            if not held:
                self.answered.append(_identity(body))
        if held:
            self.open.wait(60)
        if "response_format" not in body:
            return ("ok", "Take the morning train.")
        first = json.dumps(body["messages"]) not in self.seen_sp
        self.seen_sp.add(json.dumps(body["messages"]))
        return ("ok", "Sure! Here is a prompt" if first else GOOD_SP)


def _identity(body) -> str:
    return json.dumps([body["messages"], body.get("seed")], sort_keys=True)


def test_sigkilled_run_resumes_without_asking_an_answered_request_again(tmp_path):
    db = str(tmp_path / "kill.duckdb")
    env = {**os.environ, "RNR_DB": db}
    run = dict(cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    subprocess.run([*RNR, "ingest", str(DATA / "demo_alpaca.jsonl"), "--name", "demo"], check=True, **run)
    gate = Gate(admit=2)  # the two groups' first, invalid, system-prompt replies
    with StubServer(default=gate) as stub:
        args = [
            "--model",
            f"openai:stub@{stub.url}",
            "-n",
            "6",
            "--k",
            "3",
            "--rules",
            "2",
            "--verifiable-share",
            "0",
        ]
        proc = subprocess.Popen(
            [*RNR, "generate", "--dataset", "demo", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while len(stub.requests) < 4 and time.monotonic() < deadline:  # both retries are waiting
            time.sleep(0.02)
        time.sleep(0.6)  # longer than the group commit interval
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        answered = list(gate.answered)
        asked = len(stub.requests)
        gate.open.set()
        with Store(db) as store:
            run_id = store.list_runs()[0]["id"]
            assert store.con.execute("SELECT count(*) FROM samples").fetchone()[0] == 0
        resumed = subprocess.run([*RNR, "generate", "--resume", run_id, "--json"], **run)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["status"] == "completed"
    again = [_identity(b) for b in stub.requests[asked:]]
    assert len(answered) == 2 and not set(answered) & set(again), "an answered request was paid again"
    with Store(db) as store:
        keys = [k for (k,) in store.con.execute("SELECT item_key FROM samples").fetchall()]
        invalid = store.attempt_log(run_id, "g0000:system")
    assert len(keys) == len(set(keys)) == 10  # 6 plain + 2 tempting + 2 out of scope, none twice
    assert invalid[0]["outcome"] == "invalid" and invalid[0]["raw_output"] == "Sure! Here is a prompt"
