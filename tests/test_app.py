"""Every page through Streamlit's AppTest: rendering and the main interactions, on a store in tmp_path."""

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from rnr_app import state
from tests.app_data import seed
from tests.conftest import GOOD_SP

TIMEOUT = 60
APP = Path(__file__).resolve().parent.parent / "app.py"


@pytest.fixture
def app_db(tmp_path, monkeypatch):
    """A seeded store the app opens through RNR_DB; the process-wide cache starts empty each test."""
    db = tmp_path / "app.duckdb"
    ids = seed(db)
    monkeypatch.setenv("RNR_DB", str(db))
    monkeypatch.setenv("RNR_HOME", str(tmp_path / "home"))
    st.cache_resource.clear()
    yield db, ids
    state.close_all()


def open_page(page: str | None = None, **session) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for key, value in session.items():
        at.session_state[key] = value
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    """Everything the page shows as text, markdown, captions and messages, in one string."""
    parts = [
        e.value
        for kind in ("text", "markdown", "caption", "error", "warning", "success", "info", "code")
        for e in getattr(at, kind)
    ]
    return "\n".join(str(p) for p in parts)


def wait_job(at: AppTest, key: str) -> dict:
    return state.jobs().wait(at.session_state[key], TIMEOUT)


def test_generate_uploads_a_file_and_runs_in_the_background(app_db, scripted):
    scripted([GOOD_SP] + [f"Reply number {i}." for i in range(10)])
    at = open_page("pages/generate.py", model_spec="scripted")
    at.file_uploader[0].set_value(
        (
            "mine.jsonl",
            b'{"instruction": "Name a colour."}\n{"instruction": "Name a fish."}\n',
            "application/json",
        )
    )
    at.run()
    assert "Detected format: alpaca · 2 records" in texts(at)
    at.button(key="upload_import").click().run()
    assert "Imported 2 instructions into mine" in texts(at)
    at.selectbox(key="gen_dataset").set_value("mine")
    for key, value in (("gen_n", 2), ("gen_k", 2), ("gen_rules", 2)):
        at.number_input(key=key).set_value(value)
    at.slider(key="gen_share").set_value(0.0)
    for key in ("gen_tempting", "gen_oos", "gen_gate"):
        at.checkbox(key=key).uncheck()
    at.button(key="gen_start").click().run()
    assert not at.exception, at.exception
    job = wait_job(at, "gen_job")
    assert job["status"] == "completed", job
    assert job["result"]["counts"]["samples"] == 2
