"""Every page through Streamlit's AppTest: rendering and the main interactions, on a store in tmp_path."""

import json
import subprocess
import sys

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from rnr_app import state
from rnr_core.generate import RunConfig
from rnr_core.review import QueueFilter
from tests.app_data import IMG, SCRIPT, seed
from tests.apptest import APP, TIMEOUT, open_page, plain, texts
from tests.conftest import GOOD_SP, free_port
from tests.stub_server import StubServer


def start_small_run(at: AppTest, dataset: str) -> None:
    """Two instructions, one group, free-form rules only, no extra turns, no gate: then Start."""
    at.selectbox(key="gen_dataset").set_value(dataset)
    for key, value in (("gen_n", 2), ("gen_k", 2), ("gen_rules", 2)):
        at.number_input(key=key).set_value(value)
    at.slider(key="gen_share").set_value(0.0)
    for key in ("gen_tempting", "gen_oos"):
        at.checkbox(key=key).uncheck()
    at.selectbox(key="gen_gate").set_value("off")
    at.button(key="gen_start").click().run()


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
    start_small_run(at, "mine")
    assert not at.exception, at.exception
    job = wait_job(at, "gen_job")
    assert job["status"] == "completed", job
    assert job["result"]["counts"]["samples"] == 2


def test_home_shows_the_store_in_charts(app_db):
    at = open_page()
    assert at.title[0].value == "RNR Studio"
    assert len(at.get("plotly_chart")) >= 2
    assert "run-fixture" in str(at.dataframe[0].value)


def test_review_shows_hostile_text_as_text_and_accepts_by_button(app_db):
    db, ids = app_db
    at = open_page("pages/review.py", reviewer="ada")
    shown = texts(at)
    assert SCRIPT in shown and IMG in shown
    assert not at.get("html")  # nothing rendered as raw HTML
    assert f"Sample {ids['disputed']}" in shown
    next(b for b in at.button if b.label == "Accept").click().run()
    assert f"Sample {ids['plain']}" in texts(at)  # moved on
    sample = state.store().review_sample(ids["disputed"])
    assert (sample["status"], sample["reviewer"]) == ("accepted", "ada")


def test_review_rejects_with_a_reason_and_edits_with_a_diff(app_db):
    db, ids = app_db
    at = open_page("pages/review.py", reviewer="ada", editing=True)
    at.selectbox(key="reject_reason").set_value("low_quality")
    at.text_input(key="review_note").set_value("too short")
    next(b for b in at.button if b.label == "Reject").click().run()
    sample = state.store().review_sample(ids["disputed"])
    assert (sample["status"], sample["reject_reason"], sample["review_note"]) == (
        "rejected",
        "low_quality",
        "too short",
    )
    next(b for b in at.button if b.label == "Previous").click().run()
    response = next(t for t in at.text_area if t.label == "Response")
    response.set_value("A calmer answer.")
    next(b for b in at.button if b.label == "Save edit").click().run()
    assert not at.exception, at.exception
    assert any("+A calmer answer." in c.value for c in at.code)
    edited = state.store().review_sample(ids["disputed"])
    assert edited["response"] == "A calmer answer." and edited["version"] == 2
    assert all(v["stale"] for v in edited["verdicts"])


def test_review_second_save_of_the_same_version_is_a_conflict(app_db):
    db, ids = app_db
    first = open_page("pages/review.py", reviewer="ada", editing=True)
    second = open_page("pages/review.py", reviewer="bob", editing=True)
    for at, text in ((first, "Ada's answer."), (second, "Bob's answer.")):
        next(t for t in at.text_area if t.label == "Response").set_value(text)
    next(b for b in first.button if b.label == "Save edit").click().run()
    next(b for b in second.button if b.label == "Save edit").click().run()
    assert any("another reviewer" in plain(w.value).lower() for w in second.warning)
    assert state.store().review_sample(ids["disputed"])["response"] == "Ada's answer."
    kept = [r for r in state.store().revisions(ids["disputed"]) if not r["applied"]]
    assert [r["response"] for r in kept] == ["Bob's answer."]


def test_review_bulk_reject_asks_first_and_says_how_many(app_db):
    at = open_page("pages/review.py", reviewer="ada", editing=True)
    next(b for b in at.button if b.label == "Reject all in filter…").click().run()
    assert any("all 3 samples" in w.value for w in at.warning)
    at.selectbox(key="bulk_reason").set_value("duplicate").run()
    assert any("all 3 samples matching the filters as “Duplicate”" in w.value for w in at.warning)
    next(b for b in at.button if b.label == "Yes, reject 3 samples").click().run()
    assert state.store().queue_count(QueueFilter(status="rejected")) == 3


def test_audit_labels_the_riskiest_verdict_and_reports_agreement(app_db):
    db, ids = app_db
    at = open_page("pages/audit.py", reviewer="ada")
    assert f"Sample {ids['disputed']} · rule r1" in texts(at)  # checker and judge disagree: first
    next(b for b in at.button if b.label == "Fail").click().run()
    assert not at.exception, at.exception
    assert any("Saved: fail on sample" in plain(s.value) for s in at.success)
    labels = [
        v for v in state.store().review_sample(ids["disputed"])["verdicts"] if v["judge"] == "human:ada"
    ]
    assert [(v["rule_id"], v["verdict"]) for v in labels] == [("r1", "fail")]
    assert not at.get("plotly_chart")  # the agreement tab is computed only when open
    at.session_state["audit_tab"] = "Agreement"
    at.run()
    assert at.get("plotly_chart")  # a confusion matrix once a label exists


def test_export_writes_the_default_selection(app_db, tmp_path):
    at = open_page("pages/export.py")
    assert not at.metric  # counting waits for the button
    next(b for b in at.button if b.label == "Preview counts").click().run()
    assert sum(int(m.value) for m in at.metric[:2]) == 2  # train + test: the samples passing every rule
    out = tmp_path / "out"
    at.text_input(key="export_out").set_value(str(out))
    next(b for b in at.button if b.label == "Export").click().run()
    assert not at.exception, at.exception
    assert [d.label for d in at.download_button] == [
        f"Download {n}" for n in ("train.jsonl", "test.jsonl", "README.md", "manifest.json")
    ]
    lines = (out / "train.jsonl").read_text().splitlines() + (out / "test.jsonl").read_text().splitlines()
    replies = sorted(json.loads(line)["messages"][-1]["content"] for line in lines)
    assert replies == ["Sure! <img src=x onerror=alert(2)> It is old.", "The cafe is on the first floor."]


def test_malformed_upload_shows_the_error_and_writes_nothing(app_db):
    at = open_page("pages/generate.py")
    before = [d["name"] for d in state.store().list_datasets()]
    at.file_uploader[0].set_value(("bad.jsonl", b'{"instruction": "ok"}\n{broken\n', "application/json"))
    at.run()
    assert any("bad.jsonl:2" in plain(e.value) for e in at.error)
    assert [d["name"] for d in state.store().list_datasets()] == before


def test_locked_store_names_the_holder(tmp_path, monkeypatch):
    db = tmp_path / "held.duckdb"
    seed(db)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setenv("RNR_DB", str(db))
        st.cache_resource.clear()
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
        shown = plain(at.error[0].value)
        assert f"PID {holder.pid}" in shown and "in use by another process" in shown
    finally:
        holder.kill()
        holder.wait()


HOLD = (
    "import sys, time, duckdb; con = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(60)"
)


def endpoint(at: AppTest, url: str) -> None:
    at.radio(key="model_mode").set_value("Endpoint").run()
    at.text_input(key="base_url").set_value(url)
    at.text_input(key="endpoint_model").set_value("stub")
    at.run()


def test_sidebar_connection_test_says_what_failed_and_what_worked(app_db):
    at = open_page()
    endpoint(at, f"http://127.0.0.1:{free_port()}/v1")
    next(b for b in at.sidebar.button if b.label == "Test connection").click().run()
    assert any("Cannot reach" in plain(e.value) for e in at.sidebar.error), [
        e.value for e in at.sidebar.error
    ]
    with StubServer(default=("ok", "OK")) as stub:
        endpoint(at, stub.url)
        next(b for b in at.sidebar.button if b.label == "Test connection").click().run()
        assert any("Connected to openai:stub@" in plain(s.value) for s in at.sidebar.success)


def test_unreachable_endpoint_fails_the_run_clearly_and_it_resumes(app_db):
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    at = open_page("pages/generate.py", model_mode="Endpoint", base_url=url, endpoint_model="stub")
    start_small_run(at, "demo")
    run = wait_job(at, "gen_job")["result"]
    assert run["status"] == "failed" and "Cannot reach" in run["error"]
    run_id = at.session_state["gen_run"]
    assert state.store().get_run(run_id)["status"] == "failed"
    at.run()
    assert any("Cannot reach" in plain(e.value) for e in at.error)
    answer = lambda body: ("ok", GOOD_SP if "response_format" in body else "Fine.")  # noqa: E731
    with StubServer(default=answer, port=port):
        assert at.selectbox(key="gen_pick").value == run_id  # the run just started is the one shown
        next(b for b in at.button if b.label == "Resume run").click().run()
        assert wait_job(at, "gen_job")["status"] == "completed"
    assert state.store().get_run(run_id)["counts"]["samples"] == 2


def test_an_empty_store_gets_the_demo_data_and_a_demo_run(tmp_path, monkeypatch):
    monkeypatch.setenv("RNR_DB", str(tmp_path / "fresh.duckdb"))
    st.cache_resource.clear()
    try:
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
        assert not at.exception, at.exception
        assert [d["name"] for d in state.store().list_datasets()] == ["demo"]
        demo = [j for j in state.jobs().list() if j["kind"] == "generate"]
        assert len(demo) == 1 and demo[0]["params"]["run_id"] in str(at.dataframe[0].value)
    finally:
        state.close_all()


def test_a_run_made_with_the_cli_shows_on_home(app_db):
    db, _ = app_db
    answer = lambda body: ("ok", GOOD_SP if "response_format" in body else "Fine.")  # noqa: E731
    with StubServer(default=answer) as stub:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "rnr_core.cli",
                "generate",
                "--dataset",
                "demo",
                "--model",
                f"openai:stub@{stub.url}",
                "-n",
                "2",
                "--k",
                "2",
                "--rules",
                "2",
                "--verifiable-share",
                "0",
                "--no-tempting",
                "--no-out-of-scope",
                "--db",
                str(db),
                "--json",
            ],
            cwd=APP.parent,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert done.returncode == 0, done.stderr
    run_id = json.loads(done.stdout)["id"]
    at = open_page()
    assert run_id in str(at.dataframe[0].value)


def test_review_reverts_an_edit_and_rejudges_the_stale_verdicts(app_db, scripted):
    db, ids = app_db
    scripted([json.dumps({"r2": {"verdict": "fail", "rationale": "curt"}})])
    at = open_page("pages/review.py", reviewer="ada", model_spec="scripted", editing=True, show_history=True)
    next(t for t in at.text_area if t.label == "Response").set_value("A calmer answer.")
    next(b for b in at.button if b.label == "Save edit").click().run()
    next(b for b in at.button if b.label.startswith("Re-judge")).click().run()
    assert wait_job(at, "rejudge_job")["status"] == "completed"
    fresh = {(v["judge"], v["rule_id"]): v for v in state.store().review_sample(ids["disputed"])["verdicts"]}
    assert not fresh[("checker", "r1")]["stale"] and not fresh[("llm:scripted", "r2")]["stale"]
    assert fresh[("llm:scripted", "r2")]["verdict"] == "fail"
    at.run()
    next(b for b in at.button if b.label == "Revert to revision 0").click().run()
    assert not at.exception, at.exception
    back = state.store().review_sample(ids["disputed"])
    assert back["response"] == f"Sure! {IMG} It is old." and back["version"] == 3
    assert [r["action"] for r in state.store().revisions(ids["disputed"])] == ["generated", "edit", "revert"]


def test_home_counts_reject_reasons_per_template(app_db):
    db, ids = app_db
    state.store().review([ids["plain"]], "reject", "ada", "low_quality")
    at = open_page()
    specs = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    reasons = next(s for s in specs if "Reject reasons" in s["layout"]["title"]["text"])
    # the app's label for the reason, not its key
    assert [(t["name"], list(t["y"])) for t in reasons["data"]] == [("sp.test / resp.test", ["Low quality"])]


@pytest.mark.parametrize(
    "text",
    ["[click](http://example.com)", "**bold** _it_ `code`", "![img](x.png)", ":smile: $x^2$", "a\\b <b>"],
)
def test_esc_leaves_no_markdown_to_interpret(text):
    from rnr_app.widgets import esc

    escaped = esc(text)
    assert plain(escaped) == text
    assert all(escaped[i - 1] == "\\" for i, ch in enumerate(escaped) if ch in "[]()*_`!:$<>" and i)


def test_a_demo_that_cannot_start_is_reported_and_the_store_still_opens(tmp_path, monkeypatch):
    monkeypatch.setenv("RNR_DB", str(tmp_path / "fresh.duckdb"))
    monkeypatch.setattr("rnr_core.demo.DEMO_RUN", RunConfig(dataset="demo", model="nosuch:model"))
    st.cache_resource.clear()
    try:
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
        assert not at.exception, at.exception
        assert any("The demo could not start" in plain(w.value) for w in at.warning)
        assert at.title[0].value == "RNR Studio"
    finally:
        state.close_all()


def test_personal_mode_serves_only_this_machine():
    import tomllib

    config = tomllib.loads((APP.parent / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
