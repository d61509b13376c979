"""Shared fixtures: stores, the scripted model, the embedded GGUF and a real llama.cpp server."""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rnr_core.models.base import Completion, GenParams, Model
from rnr_core.store import Store

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
DATA = ROOT / "data"

# A system prompt reply that parses and passes the quality gate.
GOOD_SP = json.dumps(
    {
        "role": "You are a patient cooking tutor.",
        "rules": [
            {"text": "Answer in at most three sentences.", "category": "length"},
            {"text": "Never give medical advice.", "category": "safety"},
        ],
    }
)


def ingest_questions(store, tmp_path, count: int, name: str = "d") -> str:
    """A dataset of `count` one-line Alpaca instructions; returns its name."""
    from rnr_core.ingest import ingest_file

    path = tmp_path / f"{name}.jsonl"
    path.write_text(
        "".join(json.dumps({"instruction": f"Question number {i}?"}) + "\n" for i in range(count))
    )
    ingest_file(store, path, name)
    return name


def one_group(**overrides):
    """A run of one group of three with free-form rules and no extra turns, on the scripted model."""
    from rnr_core.generate import RunConfig

    base = dict(
        dataset="d",
        model="scripted",
        n=3,
        k=3,
        rules=2,
        verifiable_share=0.0,
        tempting=False,
        out_of_scope=False,
    )
    return RunConfig(**{**base, **overrides})


@pytest.fixture
def store(tmp_path):
    with Store(str(tmp_path / "rnr.duckdb")) as s:
        yield s


@pytest.fixture
def unwritable_outs(tmp_path) -> dict:
    """Output paths that cannot become a directory to write into (tests run as root, so no chmod)."""
    taken = tmp_path / "taken.txt"
    taken.write_text("keep me")
    return {
        "existing file": taken,
        "parent is a file": taken / "out",
        "under /proc": Path("/proc/rnr-test-out"),
        "unwritable directory": Path("/proc"),
    }


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}; these tests need ../shared/data")
    return SHARED_DATA


class ScriptedModel(Model):
    """Answers from a queue or a function and records every request; for pipeline-logic tests."""

    def __init__(self, answer, spec: str = "scripted", delay: float = 0.0):
        self.spec = spec
        self.answer = answer
        self.delay = delay  # seconds each call takes, for tests that watch work in progress
        self.requests: list[tuple[list[dict], GenParams]] = []
        self.answered: list[tuple[list[dict], GenParams]] = []  # requests whose reply was returned

    async def complete(self, messages, params):
        self.requests.append((messages, params))
        await asyncio.sleep(self.delay)
        reply = self.answer(messages, params) if callable(self.answer) else self.answer.pop(0)
        if isinstance(reply, Exception):
            raise reply
        self.answered.append((messages, params))
        return Completion(reply, {"prompt_tokens": 1, "completion_tokens": 1}, 1.0)


@pytest.fixture
def scripted():
    """Install a scripted model under the spec 'scripted' and return a factory to set its answers."""
    from rnr_core.models.registry import register_model

    undo = []

    def install(answer, spec: str = "scripted") -> ScriptedModel:
        model = ScriptedModel(answer, spec)
        undo.append(register_model(spec, model))
        return model

    yield install
    for restore in reversed(undo):
        restore()


@pytest.fixture(scope="session")
def gguf_path() -> str:
    from rnr_core.models.llamacpp import smollm2_path

    path = smollm2_path()
    assert path.is_file(), f"embedded model missing at {path}"
    return str(path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early with code {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"server did not listen on port {port} within {timeout} s")


def stop(proc: subprocess.Popen) -> None:
    """Stop a server by PID, escalating if it ignores SIGTERM."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="session")
def llama_server(gguf_path):
    """The real `python -m llama_cpp.server` with SmolLM2 on a free loopback port; yields its /v1 URL."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            gguf_path,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "4096",
            "--model_alias",
            "smollm2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        stop(proc)


@pytest.fixture
def app_db(tmp_path, monkeypatch):
    """A seeded store (tests/app_data.py) the app opens through RNR_DB; a fresh process-wide cache."""
    import streamlit as st

    from rnr_app import state
    from tests.app_data import seed

    db = tmp_path / "app.duckdb"
    ids = seed(db)
    monkeypatch.setenv("RNR_DB", str(db))
    monkeypatch.setenv("RNR_HOME", str(tmp_path / "home"))
    st.cache_resource.clear()
    yield db, ids
    state.close_all()


@pytest.fixture(scope="session")
def models_cache(gguf_path, tmp_path_factory) -> Path:
    """The embedded model dequantised once per session, as `rnr train --base local` caches it."""
    from rnr_core.models.convert import cached_checkpoint

    return cached_checkpoint(gguf_path, tmp_path_factory.mktemp("models"))


def home_with_cache(home: Path, models_cache: Path, gguf_path: str) -> Path:
    """An RNR_HOME whose model cache already holds the dequantised embedded model."""
    from rnr_core.models.convert import cached_checkpoint_dir

    target = cached_checkpoint_dir(gguf_path, home / "models")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(models_cache, target_is_directory=True)
    return home
