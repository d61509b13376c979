"""The sidebar's remembered settings, an endpoint's missing fields, credentials kept off the screen, and
the hand-written demo samples with their checker verdicts."""

import asyncio
import json

import pytest

from rnr_core import access, preferences
from rnr_core.demo import CURATED_RUN, DEMO_FILE, SAMPLES_FILE, import_curated, load_curated, seed_demo
from rnr_core.errors import IngestError, SettingError
from rnr_core.evaluate.benchmark import benchmarks
from rnr_core.generate import RunConfig
from rnr_core.generate.quality import problems
from rnr_core.ingest import ingest_file
from rnr_core.jobs import JobRunner
from rnr_core.models.connection import ModelSettings, check_connection
from rnr_core.rules.checking import CHECKER
from rnr_core.store import Store
from tests.apptest import open_page, plain, texts
from tests.conftest import GOOD_SP

SECRET = "S3cretPass"
CHOSEN = {
    "reviewer": "ada",
    "model_mode": "Endpoint",
    "model_spec": "local",
    "base_url": "http://127.0.0.1:8000/v1",
    "endpoint_model": "smollm2",
    "key_env": "MY_KEY_VAR",
    "timeout": 30.0,
    "concurrency": 4,
}


@pytest.fixture
def my_key_var_allowed(tmp_path, monkeypatch):
    """The operator lets a model read its key from MY_KEY_VAR too."""
    (tmp_path / "config.toml").write_text('key_envs = ["OPENAI_API_KEY", "MY_KEY_VAR"]\n')
    monkeypatch.setenv("RNR_CONFIG", str(tmp_path / "config.toml"))
    access.reload()
    yield
    monkeypatch.undo()
    access.reload()


def test_preferences_survive_reopening_the_store_and_belong_to_their_owner(tmp_path, my_key_var_allowed):
    db = str(tmp_path / "prefs.duckdb")
    with Store(db) as store:
        preferences.save(store, "os:ada", {**CHOSEN, "base_url": "  http://127.0.0.1:8000/v1 "})
    with Store(db) as store:
        assert preferences.load(store, "os:ada") == {**CHOSEN, "team_model": ""}  # trimmed as kept
        defaults = preferences.load(store, "os:bob")
    assert defaults["model_mode"] == "Spec" and defaults["model_spec"] == "local"
    assert defaults["reviewer"] == preferences.PREFERENCES["reviewer"].default()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("model_spec", f"openai:m@http://user:{SECRET}@127.0.0.1:9/v1"),
        ("base_url", f"http://user:{SECRET}@127.0.0.1:9/v1"),
        ("base_url", f"http://127.0.0.1:9/v1?api_key={SECRET}"),
        ("key_env", f"sk-{SECRET}0123456789"),
        ("key_env", f"{SECRET}/with+base64=="),
        ("reviewer", "   "),
    ],
)
def test_a_refused_setting_is_never_stored_nor_repeated(store, name, value):
    with pytest.raises(SettingError) as refused:
        preferences.save(store, "os:ada", {"reviewer": "ada", name: value})
    assert SECRET not in str(refused.value)
    assert store.preferences("os:ada") == {}  # all or nothing


@pytest.mark.parametrize(
    ("base_url", "model", "missing"),
    [
        ("", "", ["a base URL", "a model name"]),
        ("http://127.0.0.1:9/v1", " ", ["a model name"]),
        ("", "m", ["a base URL"]),
    ],
)
def test_an_incomplete_endpoint_names_what_is_missing_and_never_uses_another_model(base_url, model, missing):
    chosen = ModelSettings(spec="local", base_url=base_url, model=model, endpoint=True)
    with pytest.raises(SettingError) as err:
        chosen.resolved_spec()
    assert all(m in str(err.value) for m in missing), err.value
    result = asyncio.run(check_connection(chosen))
    assert result == {"ok": False, "error": str(err.value)}


def test_a_shown_spec_masks_the_credential_typed_into_it():
    chosen = ModelSettings(spec=f"openai:m@http://user:{SECRET}@127.0.0.1:9/v1")
    assert chosen.shown_spec() == "openai:m@http://[redacted]@127.0.0.1:9/v1"


def _curated_store(store) -> list[dict]:
    ingest_file(store, DEMO_FILE, "demo")
    import_curated(store, load_curated(SAMPLES_FILE), "demo")
    return [json.loads(line) for line in SAMPLES_FILE.read_text().splitlines()]


def test_the_hand_written_demo_samples_carry_the_real_checkers_verdicts(store):
    written = _curated_store(store)
    samples = store.samples_with_verdicts(run_id=CURATED_RUN)
    assert 4 <= len(written) <= 5 and 12 <= len(samples) <= 16
    expected = [(p, s) for p in written for s in p["samples"]]
    assert [s["response"] for s in samples] == [s["response"].strip() for _, s in expected]
    for sample, (prompt, wrote) in zip(samples, expected):
        verifiable = [r["id"] for r in prompt["rules"] if r.get("kind")]
        got = {v["rule_id"]: v["verdict"] for v in sample["verdicts"]}
        assert {v["judge"] for v in sample["verdicts"]} == {CHECKER}  # no LLM verdicts made up
        assert got == {r: "fail" if r in wrote.get("breaks", []) else "pass" for r in verifiable}
    assert sum(v["verdict"] == "fail" for s in samples for v in s["verdicts"]) in (1, 2, 3)


def test_the_hand_written_prompts_are_what_the_tool_is_for(store):
    _curated_store(store)
    prompts = {s["system_prompt_id"]: s for s in store.list_samples(limit=100, run_id=CURATED_RUN)}
    for sample in prompts.values():
        assert problems(sample["role"], sample["rules"]) == []  # the quality gate finds no placeholder
        kinds = [bool(r["kind"]) for r in sample["rules"]]
        assert 3 <= len(kinds) <= 4 and any(kinds) and not all(kinds)  # checkable and free-form rules
    kinds = [s["kind"] for s in store.list_samples(limit=100, run_id=CURATED_RUN)]
    assert {"plain", "tempting", "out_of_scope"} <= set(kinds)


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ('{"rules": [], "samples": []}', "line 2: missing field 'role'"),
        (
            '{"role": "A guide.", "rules": [{"id": "r1", "kind": "nosuch:kind", "text": "x"}], '
            '"samples": []}',
            "line 2: rule 1: unknown rule kind 'nosuch:kind'",
        ),
        (
            '{"role": "A guide.", "rules": [{"id": "r1", "category": "tone", "text": "x"}], "samples": []}',
            "line 2: rule 1: category 'tone' is not one of",
        ),
        (
            '{"role": "A guide.", "rules": [{"id": "r1", "category": "style", "text": "x"}], '
            '"samples": [{"kind": "plain", "breaks": ["r9"], "messages": [{"role": "user", "content": "q"}], '
            '"response": "a"}]}',
            "line 2: sample 1: names rule 'r9'",
        ),
    ],
)
def test_a_bad_demo_file_names_the_line_and_the_field(tmp_path, line, says):
    bad = tmp_path / "samples.jsonl"
    bad.write_text(SAMPLES_FILE.read_text().splitlines()[0] + "\n" + line + "\n")
    with pytest.raises(IngestError) as err:
        load_curated(bad)
    assert f"samples.jsonl {says}" in str(err.value) and "nothing was imported" in str(err.value)


def test_an_empty_store_gets_the_hand_written_samples_first_then_the_live_ones(store, scripted, monkeypatch):
    scripted(lambda messages, params: GOOD_SP if params.json_schema else "Fine.")
    live = RunConfig("demo", "scripted", 2, 2, 2, verifiable_share=0.0, tempting=False, out_of_scope=False)
    monkeypatch.setattr("rnr_core.demo.DEMO_RUN", live)
    jobs = JobRunner(store)
    job = seed_demo(store, jobs)
    assert jobs.wait(job, 60)["status"] == "completed"
    assert seed_demo(store, jobs) is None  # a store with data is left alone
    runs = [s["run_id"] for s in store.list_samples(limit=100)]
    curated = runs.count(CURATED_RUN)
    assert curated >= 12 and set(runs[:curated]) == {CURATED_RUN} and len(set(runs[curated:])) == 1
    # The hand-written samples are also a benchmark, so Compare has one to evaluate models on.
    [bench] = benchmarks(store)
    assert (bench["name"], bench["source"], bench["items"]) == ("demo", f"run:{CURATED_RUN}", curated)


def test_the_sidebar_restores_the_reviewer_and_model_in_a_new_session(app_db):
    at = open_page()
    at.text_input(key="reviewer").set_value("ada").run()
    at.radio(key="model_mode").set_value("Endpoint").run()
    at.text_input(key="base_url").set_value(CHOSEN["base_url"])
    at.text_input(key="endpoint_model").set_value("smollm2")
    at.number_input(key="concurrency").set_value(4)
    at.run()
    again = open_page()  # a reload: a new session of the same app
    assert again.text_input(key="reviewer").value == "ada"
    assert again.radio(key="model_mode").value == "Endpoint"
    assert again.text_input(key="base_url").value == CHOSEN["base_url"]
    assert again.number_input(key="concurrency").value == 4
    assert f"Model: openai:smollm2@{CHOSEN['base_url']}" in texts(again)


def test_the_sidebar_puts_back_a_refused_spec_and_says_why_without_the_secret(app_db):
    at = open_page()
    at.text_input(key="model_spec").set_value(f"openai:m@http://user:{SECRET}@127.0.0.1:9/v1").run()
    assert at.text_input(key="model_spec").value == "local"
    assert any("carries a credential" in plain(e.value) for e in at.sidebar.error)
    assert SECRET not in texts(at)
    assert "Model: local" in texts(at)
