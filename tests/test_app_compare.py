"""The Compare page through AppTest: an empty store, the live demo's blind vote, a benchmark's summary and
its blind votes on stored answers, and what a viewer sees (results, no controls)."""

import asyncio
import json

import pytest

from rnr_core import access
from rnr_core.evaluate.benchmark import freeze, load
from rnr_core.evaluate.compare import record_vote
from rnr_core.evaluate.run import run_eval
from rnr_core.store import Store
from tests.apptest import open_page, plain, texts
from tests.conftest import ScriptedModel
from tests.oidc import NO_SERVER, write_team_config
from tests.test_app_login import AUTH

PAGE = "pages/compare.py"
ITEMS = [
    {
        "messages": [
            {"role": "system", "content": "You are a tour guide."},
            {"role": "user", "content": f"Tell me about sight number {i}."},
        ],
        "rules": [
            {"id": "1", "text": "Do not use any commas.", "kind": "punctuation:no_comma"},
        ],
    }
    for i in range(4)
]


def labels(at) -> set[str]:
    return {b.label for b in at.button}


@pytest.fixture
def scripted_models():
    """Two scripted contestants: 'terse' never uses a comma, 'chatty' always does."""
    from rnr_core.models.registry import register_model

    undo = [
        register_model("terse", ScriptedModel(lambda m, p: "A fine old place", "terse")),
        register_model("chatty", ScriptedModel(lambda m, p: "Well, it is old, and fine", "chatty")),
        register_model("scripted", ScriptedModel(lambda m, p: f"Answer at t={p.temperature:g}", "scripted")),
    ]
    yield
    for u in undo:
        u()


@pytest.fixture
def evaluated(app_db, tmp_path, scripted_models):
    """The seeded store with a frozen benchmark both scripted models answered, and one person's vote."""
    db, _ = app_db
    path = tmp_path / "bench.jsonl"
    path.write_text("".join(json.dumps(i) + "\n" for i in ITEMS))
    with Store(str(db)) as store:
        freeze(store, "tour", file=str(path), created_by="ada")
        asyncio.run(run_eval(store, "tour", ["terse", "chatty"], judge=None, max_tokens=32))
        record_vote(
            store,
            benchmark=None,
            item_key=None,
            item={"system_prompt": "", "messages": [{"role": "user", "content": "Hi"}], "rules": []},
            model_a="terse",
            model_b="chatty",
            response_a="Hello",
            response_b="Hi there",
            winner="a",
            voter="ada",
            blind=True,
        )
    return db


def test_renders_on_an_empty_store_and_says_what_it_is_for(app_db):
    at = open_page(PAGE)
    shown = texts(at)
    assert "side by side" in shown and "No votes yet" in shown
    assert "Run" in labels(at)
    at.session_state["compare_tab"] = "Benchmark"
    at.run()
    assert not at.exception
    assert "No benchmarks yet" in texts(at)


def test_live_demo_blind_vote_is_recorded_with_the_voter_and_then_names_show(app_db, scripted_models):
    db, _ = app_db
    at = open_page(PAGE, reviewer="ada", model_spec="scripted")
    at.selectbox(key="live_model_0").set_value("sidebar")
    at.selectbox(key="live_model_1").set_value("sidebar")
    at.text_area[2].set_value("")  # no rules: nothing to judge
    at.button[[b.label for b in at.button].index("Run")].click()
    at.run()
    assert not at.exception, at.exception
    headers = [plain(h.value) for h in at.subheader]
    assert "Model A" in headers and "Model B" in headers
    assert "scripted · t=0.9" not in texts(at)  # blind: no names before the vote
    at.button(key="vote-A").click()
    at.run()
    assert not at.exception, at.exception
    with Store(str(db)) as store:
        (vote,) = store.votes(None, "human")
    assert (vote["voter"], vote["blind"], vote["winner"]) == ("ada", True, "a")
    assert {vote["model_a"], vote["model_b"]} == {"scripted · t=0", "scripted · t=0.9"}
    # The recorded sides are the ones shown: A's answer is the answer of the model recorded as A.
    assert vote["response_a"] == f"Answer at t={vote['model_a'].rsplit('=', 1)[1]}"
    assert "Vote recorded" in texts(at)
    headers = [plain(h.value) for h in at.subheader]
    assert f"Model A: {vote['model_a']}" in headers and f"Model B: {vote['model_b']}" in headers
    assert at.get("plotly_chart"), "the leaderboard did not appear after the vote"


def test_benchmark_summary_and_a_blind_vote_on_stored_answers(evaluated):
    at = open_page(PAGE, reviewer="ada", compare_tab="Benchmark")
    assert not at.exception, at.exception
    assert "Pass rate per model" in [h.value for h in at.subheader] and "Evaluate" in labels(at)
    assert len(at.get("plotly_chart")) >= 1
    at.button(key="bench-vote-Tie").click()
    at.run()
    assert not at.exception, at.exception
    with Store(str(evaluated)) as store:
        votes = store.votes(store.benchmark_row("tour")["id"], "human")
    assert [(v["voter"], v["blind"], v["winner"]) for v in votes] == [("ada", True, "tie")]
    assert {votes[0]["model_a"], votes[0]["model_b"]} == {"terse", "chatty"}
    assert "Next item" in labels(at)


@pytest.fixture
def viewer(evaluated, tmp_path, monkeypatch):
    models = [{**NO_SERVER, "name": "small"}]
    roles = {"vic@viewers.example.com": "viewer"}
    path = write_team_config(tmp_path / "rnr-config.toml", roles, models, export_root=tmp_path / "exports")
    monkeypatch.setenv("RNR_CONFIG", str(path))
    access.reload()
    yield lambda **session: open_page(
        PAGE,
        secrets={"auth": AUTH},
        user={"is_logged_in": True, "email_verified": True, "email": "vic@viewers.example.com"},
        **session,
    )
    monkeypatch.delenv("RNR_CONFIG")
    access.reload()


def test_a_viewer_sees_results_but_no_vote_or_start_button(viewer):
    at = viewer()
    assert not {"Run", "A", "B", "Tie", "Both bad"} & labels(at)
    assert "running the live demo and voting is for reviewers and maintainers" in texts(at)
    assert at.get("plotly_chart"), "a viewer should still see the leaderboard"
    at = viewer(compare_tab="Benchmark")
    assert not {"Evaluate", "Compare (pairwise judge)", "A", "Tie"} & labels(at)
    assert "starting evaluations and comparisons is for maintainers" in texts(at)
    assert "Pass rate per model" in [h.value for h in at.subheader]


def test_a_maintainer_starts_an_evaluation_as_themselves(evaluated):
    at = open_page(PAGE, reviewer="mia", compare_tab="Benchmark", model_spec="terse")
    at.multiselect[0].set_value(["sidebar"])
    next(b for b in at.button if b.label == "Evaluate").click().run()
    assert not at.exception, at.exception
    from rnr_app import state

    job = state.jobs().wait(at.session_state["bench_job"], 60)
    assert (job["kind"], job["status"]) == ("eval", "completed"), job
    assert job["params"]["models"] == ["terse"] and job["params"]["started_by"] == "mia"


def _pass_rates_with_one_undecided() -> None:
    from rnr_app import compare_charts

    decided = {"rate": 0.75, "ci95": [0.4, 0.9], "n": 4}
    undecided = {"rate": None, "ci95": None, "n": 0}
    compare_charts.pass_rates(
        {
            "terse": {"pass_rate": decided, "verifiable_pass_rate": decided, "answered": 4, "failed": 0},
            "waiting": {
                "pass_rate": undecided,
                "verifiable_pass_rate": undecided,
                "answered": 4,
                "failed": 0,
            },
        },
        {},
    )


def test_a_model_without_a_pass_rate_is_left_out_of_the_chart_and_says_no_verdicts_yet():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_pass_rates_with_one_undecided, default_timeout=30).run()
    assert not at.exception, at.exception
    (chart,) = at.get("plotly_chart")
    (trace,) = json.loads(chart.proto.spec)["data"]
    assert trace["y"] == ["terse"] and trace["x"] == [0.75]  # no 0% dot for the undecided model
    table = at.dataframe[0].value.set_index("Model")
    assert table.loc["waiting", "Pass rate (95% interval)"] == "no verdicts yet"
    assert table.loc["terse", "Pass rate (95% interval)"] == "75% (40% to 90%) of 4"


def test_blind_voting_skips_what_this_voter_voted_on_and_says_when_all_are_done(evaluated):
    with Store(str(evaluated)) as store:
        first = store.benchmark_row("tour")["id"]
        keys = [it["item_key"] for it in load(store, "tour")["items"]]
        answers = {"response_a": "x", "response_b": "y"}
        for key in keys[:2]:  # ada voted on two items of this pair before, sides the other way round
            record_vote(
                store,
                benchmark="tour",
                item_key=key,
                item=None,
                model_a="chatty",
                model_b="terse",
                winner="b",
                voter="ada",
                blind=True,
                **answers,
            )
    at = open_page(PAGE, reviewer="ada", compare_tab="Benchmark")
    assert "2 of 4 items left to vote on for this pair" in texts(at)
    seen = set()
    for _ in range(2):
        seen.add(next(t.value for t in at.text if "sight number" in t.value))
        at.button(key="bench-vote-Tie").click().run()
        next(b for b in at.button if b.label == "Next item").click().run()
        assert not at.exception, at.exception
    assert seen == {"Tell me about sight number 2.", "Tell me about sight number 3."}
    assert "You have voted on every item of this pair" in texts(at)
    assert not {"A", "Tie"} & labels(at)
    with Store(str(evaluated)) as store:
        assert len(store.votes(first, "human")) == 4  # each item once: nothing served twice


@pytest.fixture
def half_broken():
    """'scripted' answers, except at temperature 0.5, where its backend fails naming itself."""
    from rnr_core.errors import ModelCallError
    from rnr_core.models.registry import register_model

    def answer(m, p):
        if p.temperature == 0.5:
            return ModelCallError("llama.cpp could not load secret-backend.gguf")
        return f"Answer at t={p.temperature:g}"

    undo = register_model("scripted", ScriptedModel(answer, "scripted"))
    yield
    undo()


def test_live_demo_blind_keeps_a_failure_anonymous_and_takes_one_vote_per_pair(app_db, half_broken):
    db, _ = app_db
    at = open_page(PAGE, reviewer="ada", model_spec="scripted", live_count=3)
    for i in range(3):
        at.selectbox(key=f"live_model_{i}").set_value("sidebar")
    at.text_area[2].set_value("")
    at.button[[b.label for b in at.button].index("Run")].click().run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert "secret-backend" not in shown and "llama.cpp" not in shown and "scripted" not in shown
    assert "This model failed to answer" in shown
    # The two that answered make one pair: one vote, then the names and the failure's error show.
    at.button(key="vote-B").click().run()
    assert not at.exception, at.exception
    with Store(str(db)) as store:
        (vote,) = store.votes(None, "human")
    assert {vote["model_a"], vote["model_b"]} == {"scripted · t=0", "scripted · t=0.9"}
    shown = texts(at)
    assert "secret-backend.gguf" in shown and "scripted · t=0.5" in [
        plain(h.value).split(": ")[-1] for h in at.subheader
    ]
    assert not {"A", "B", "Tie"} & labels(at)


def test_live_demo_blind_with_three_shows_the_names_only_once_every_pair_has_its_vote(
    app_db, scripted_models
):
    db, _ = app_db
    at = open_page(PAGE, reviewer="ada", model_spec="scripted", live_count=3)
    for i in range(3):
        at.selectbox(key=f"live_model_{i}").set_value("sidebar")
    at.text_area[2].set_value("")
    at.button[[b.label for b in at.button].index("Run")].click().run()
    for left in (3, 2, 1):
        headers = [plain(h.value) for h in at.subheader][:3]
        assert headers == ["Model A", "Model B", "Model C"], (left, headers)
        if left > 1:
            assert len(at.selectbox(key="live_pair").options) == left
        at.button(key="vote-Tie").click().run()
        assert not at.exception, at.exception
    with Store(str(db)) as store:
        votes = store.votes(None, "human")
    assert len({frozenset((v["model_a"], v["model_b"])) for v in votes}) == 3
    assert all(
        h.startswith("Model ") and ": scripted" in h for h in [plain(h.value) for h in at.subheader][:3]
    )


def test_a_comparison_started_from_the_page_keeps_the_item_limit_and_reuses_stored_answers(evaluated):
    at = open_page(PAGE, reviewer="mia", compare_tab="Benchmark", model_spec="terse")
    at.multiselect[0].set_value(["local", "sidebar"])
    at.number_input[0].set_value(2)
    next(b for b in at.button if b.label == "Compare (pairwise judge)").click().run()
    assert not at.exception, at.exception
    from rnr_app import state

    job = state.jobs().get(at.session_state["bench_job"])
    state.jobs().cancel(job["id"])  # the embedded model need not answer: the job's settings are the point
    state.jobs().wait(job["id"], 60)
    assert job["kind"] == "compare" and job["params"]["limit"] == 2 and "max_tokens" not in job["params"]
