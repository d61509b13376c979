"""The Compare page in team mode through AppTest: the operator's models appear by name only (never an
endpoint address), and the policy is asked at the click, so a role revoked after the page was drawn
stores nothing."""

import asyncio
import json

import pytest

from rnr_core import access
from rnr_core.evaluate.benchmark import freeze, load
from rnr_core.evaluate.compare import record_vote
from rnr_core.evaluate.run import run_eval
from rnr_core.models.connection import team_model_settings
from rnr_core.models.registry import register_model
from rnr_core.store import Store
from tests.apptest import open_page, texts
from tests.conftest import ScriptedModel
from tests.oidc import NO_SERVER, write_team_config
from tests.test_app_compare import ITEMS, PAGE, labels
from tests.test_app_login import AUTH

ADDRESS = "127.0.0.1:9"  # NO_SERVER's base_url: what must never show
ROLES = {"mia@example.com": "maintainer", "rex@example.com": "reviewer"}


@pytest.fixture
def team(app_db, tmp_path, monkeypatch):
    """Team mode over the seeded store with the operator's model 'small', evaluated on a benchmark next
    to a scripted model, and voted on; `roles(...)` rewrites the operator's file (a role revoked)."""
    db, _ = app_db
    path = tmp_path / "rnr-config.toml"

    def roles(given: dict) -> None:
        write_team_config(path, given, [{**NO_SERVER, "name": "small"}], export_root=tmp_path / "exports")
        access.reload()

    monkeypatch.setenv("RNR_CONFIG", str(path))
    roles(ROLES)
    spec = team_model_settings("small").resolved_spec()
    assert ADDRESS in spec
    undo = [
        register_model(spec, ScriptedModel(lambda m, p: "A fine old place", spec)),
        register_model("chatty", ScriptedModel(lambda m, p: "Well, it is old, and fine", "chatty")),
    ]
    bench = tmp_path / "bench.jsonl"
    bench.write_text("".join(json.dumps(i) + "\n" for i in ITEMS))
    with Store(str(db)) as store:
        freeze(store, "tour", file=str(bench), created_by="mia@example.com")
        asyncio.run(run_eval(store, "tour", [spec, "chatty"], judge=None, max_tokens=32))
        item = {"system_prompt": "", "messages": [{"role": "user", "content": "Hi"}], "rules": []}
        for benchmark in (None, "tour"):
            record_vote(
                store,
                benchmark=benchmark,
                item_key=load(store, "tour")["items"][0]["item_key"] if benchmark else None,
                item=None if benchmark else item,
                model_a=spec,
                model_b="chatty",
                response_a="A fine old place",
                response_b="Well, it is old, and fine",
                winner="a",
                voter="mia@example.com",
                blind=True,
            )
    yield db, roles
    for u in undo:
        u()
    monkeypatch.delenv("RNR_CONFIG")
    access.reload()


def page(email: str, **session):
    user = {"is_logged_in": True, "email_verified": True, "email": email, "sub": email}
    return open_page(PAGE, secrets={"auth": AUTH}, user=user, **session)


def everything_shown(at) -> str:
    """Text, tables, charts and selectbox options: all a visitor can read."""
    parts = [texts(at)]
    parts += [d.value.to_csv() for d in at.dataframe]
    parts += [c.proto.spec for c in at.get("plotly_chart")]
    parts += [str(o) for s in at.selectbox for o in s.options]
    parts += [str(o) for s in at.multiselect for o in s.options]
    return "\n".join(parts)


def test_team_models_show_by_the_operators_name_and_no_endpoint_address(team):
    at = page("mia@example.com", compare_tab="Benchmark")
    assert not at.exception, at.exception
    shown = everything_shown(at)
    assert ADDRESS not in shown and "base_url" not in shown and "openai:" not in shown
    assert "small" in shown and "chatty" in shown  # the chart, the tables and the vote selectors
    at = page("rex@example.com")
    assert ADDRESS not in everything_shown(at)
    assert "small" in [o for s in at.selectbox if s.key == "live_model_1" for o in s.options]


def test_a_vote_after_the_role_was_revoked_stores_nothing(team):
    db, roles = team
    at = page("rex@example.com", compare_tab="Benchmark")
    assert "Tie" in labels(at)
    roles({"mia@example.com": "maintainer", "rex@example.com": "viewer"})  # revoked after the page drew
    at.button(key="bench-vote-Tie").click().run()
    assert not at.exception, at.exception
    assert "voting is for reviewers and maintainers" in texts(at)
    with Store(str(db)) as store:
        assert not [
            v for v in store.votes(store.benchmark_row("tour")["id"]) if v["voter"] != "mia@example.com"
        ]


@pytest.fixture
def drawn_by_mistake(monkeypatch):
    """Every control drawn whatever the role: what a page that forgot to hide one would do."""
    from rnr_app import state

    monkeypatch.setattr(state, "may", lambda action: True)


@pytest.mark.parametrize("button", ["bench-vote-Tie", "bench-vote-A"])
def test_a_viewer_who_reaches_a_vote_button_is_refused_at_the_click(team, drawn_by_mistake, button):
    db, roles = team
    roles({"mia@example.com": "maintainer", "@example.com": "viewer"})
    at = page("vic@example.com", compare_tab="Benchmark")
    at.button(key=button).click().run()
    assert not at.exception, at.exception
    assert "vic@example.com is a viewer and may not vote" in texts(at)
    with Store(str(db)) as store:
        assert not [
            v for v in store.votes(store.benchmark_row("tour")["id"]) if v["voter"] != "mia@example.com"
        ]


def test_a_viewer_who_reaches_evaluate_is_refused_at_the_click_and_no_job_starts(team, drawn_by_mistake):
    _, roles = team
    roles({"@example.com": "viewer"})
    at = page("vic@example.com", compare_tab="Benchmark")
    next(b for b in at.button if b.label == "Evaluate").click().run()
    assert not at.exception, at.exception
    assert "vic@example.com is a viewer and may not evaluate" in texts(at)
    assert "bench_job" not in at.session_state


def test_a_viewer_who_reaches_the_live_demo_is_refused_at_run(team, drawn_by_mistake):
    _, roles = team
    roles({"@example.com": "viewer"})
    at = page("vic@example.com")
    next(b for b in at.button if b.label == "Run").click().run()
    assert not at.exception, at.exception
    assert "vic@example.com is a viewer and may not vote" in texts(at)
    assert "live" not in at.session_state
