"""Several people per item through AppTest: the setting, each reviewer's queue, agreement, adjudication."""

import pytest
from streamlit.testing.v1 import AppTest

from rnr_app import state
from rnr_core import access
from rnr_core.review import QueueFilter
from tests.app_data import SCRIPT
from tests.apptest import TIMEOUT, open_page, plain, texts
from tests.oidc import write_team_config
from tests.test_app_login import AUTH


def button(at, key: str):
    return next(b for b in at.button if b.key == key)


def labelled(at, label: str):
    return next(b for b in at.button if b.label == label)


def test_a_maintainer_sets_people_per_sample_on_the_review_page(app_db):
    at = open_page("pages/review.py", reviewer="mia")
    assert "People per sample: 1" in [e.label for e in at.expander]
    at.number_input(key="labels-review").set_value(3)
    labelled(at, "Set").click().run()
    assert state.store().labels_per_item("review") == 3
    assert state.store().task_settings()["review"]["set_by"] == "mia"
    assert [plain(s.value) for s in at.success] == ["Saved: 3 people per sample for the review."]
    assert "People per sample: 3" in [e.label for e in at.expander]
    assert "Each sample needs 3 people's labels" in texts(at)


def test_with_two_per_sample_each_reviewer_sees_only_their_own_queue(app_db):
    _, ids = app_db
    at = open_page("pages/review.py", reviewer="ada")
    state.store().set_labels_per_item("review", 2, "mia")
    at.run()
    assert f"Sample {ids['disputed']}**" in texts(at)
    assert "Nobody has decided this sample yet." in texts(at)
    labelled(at, "Accept").click().run()
    assert state.store().review_sample(ids["disputed"])["status"] == "pending"  # one of two decisions
    assert f"Sample {ids['plain']}**" in texts(at)
    assert labelled(at, "Previous").disabled  # ada's queue no longer holds the sample she decided
    assert [r["id"] for r in state.store().queue(QueueFilter(open_for="ada"))][0] == ids["plain"]
    bob = open_page("pages/review.py", reviewer="bob")
    assert f"Sample {ids['disputed']}**" in texts(bob)
    assert "Decisions so far: ada: accept" in texts(bob)
    labelled(bob, "Accept").click().run()
    assert state.store().review_sample(ids["disputed"])["status"] == "accepted"  # both agree


def test_an_adjudicator_settles_a_review_disagreement(app_db):
    _, ids = app_db
    at = open_page("pages/adjudicate.py", reviewer="mia")
    store = state.store()
    assert "No sample's reviewers disagree." in texts(at)
    store.set_labels_per_item("review", 2, "mia")
    store.review([ids["disputed"]], "accept", "ada", note="looks fine")
    store.review([ids["disputed"]], "reject", "bob", reason="unsafe")
    at.run()
    shown = texts(at)
    assert "Reviews (1 sample)" in [h.value for h in at.subheader]
    assert "ada: accept: “looks fine”" in shown and "bob: reject (Unsafe)" in shown
    assert SCRIPT in shown and not [m for m in at.markdown if "<script>" in m.value]  # text, not markup
    button(at, f"adj-reject-{ids['disputed']}").click().run()
    sample = store.review_sample(ids["disputed"])
    assert (sample["status"], sample["reviewer"], sample["reject_reason"]) == (
        "rejected",
        "mia",
        "rule_broken",
    )
    assert [plain(s.value) for s in at.success] == [f"Sample {ids['disputed']} rejected by your ruling."]
    assert "No sample's reviewers disagree." in texts(at)


def test_audit_labels_per_person_then_their_disagreement_is_adjudicated(app_db):
    _, ids = app_db
    at = open_page("pages/audit.py", reviewer="ada")
    store = state.store()
    store.set_labels_per_item("audit", 2, "mia")
    store.label_verdict(ids["disputed"], "r1", "pass", "ann")
    at.run()
    assert f"Sample {ids['disputed']} · rule r1" in texts(at)  # one label of two: still offered to ada
    assert "Each verdict needs 2 people's labels" in texts(at)
    labelled(at, "Fail").click().run()
    assert f"Sample {ids['disputed']} · rule r1" not in texts(at)
    adj = open_page("pages/adjudicate.py", reviewer="mia")
    assert "Audit labels (1 rule)" in [h.value for h in adj.subheader]
    assert "ann: pass" in texts(adj) and "ada: fail" in texts(adj)
    button(adj, f"adj-pass-{ids['disputed']}-r1").click().run()
    judges = {v["judge"]: v["verdict"] for v in store.verdicts([ids["disputed"]]) if v["rule_id"] == "r1"}
    assert judges["adjudicator:mia"] == "pass"
    assert "No rule's labels disagree." in texts(adj)


def test_agreement_shows_people_with_each_other_as_the_ceiling(app_db):
    _, ids = app_db
    at = open_page("pages/audit.py", reviewer="ada")
    store = state.store()
    for who, verdict in (("ann", "pass"), ("bob", "fail")):
        store.label_verdict(ids["disputed"], "r1", verdict, who)
    at = open_page("pages/audit.py", reviewer="ada", audit_tab="Agreement")
    assert [h.value for h in at.subheader] == [
        "By judge",
        "By judge and rule category",
        "People with each other (the ceiling)",
        "Human label against judge verdict",
    ]
    judges, per_category, people = (t.value for t in at.dataframe[:3])
    assert "People agree (ceiling)" in judges.columns and "People agree (ceiling)" in per_category.columns
    assert list(people["Category"]) == ["all categories", "language"]
    assert set(people["Reading"]) == {
        "too few items labelled by two or more people to tell (1 of the 10 needed)"
    }
    assert "None" not in people.to_string() and "nan" not in people.to_string()


def test_agreement_is_computed_again_only_when_the_store_changes(app_db, monkeypatch):
    from rnr_core import audit

    _, ids = app_db
    store = state.store()
    for who, verdict in (("ann", "pass"), ("bob", "fail")):
        store.label_verdict(ids["disputed"], "r1", verdict, who)
    calls = []
    real = audit.human_agreement_report
    monkeypatch.setattr(audit, "human_agreement_report", lambda s, **kw: calls.append(1) or real(s, **kw))
    at = open_page("pages/audit.py", reviewer="ada", audit_tab="Agreement")
    shown = at.dataframe[2].value.to_string()
    at.run()
    at.run()
    assert len(calls) == 1 and at.dataframe[2].value.to_string() == shown  # redraws reuse the figures
    state.store().label_verdict(ids["disputed"], "r1", "pass", "cy")
    at.run()
    assert len(calls) == 2 and "3" in at.dataframe[2].value["People"].astype(str).tolist()


@pytest.fixture
def team(app_db, tmp_path, monkeypatch):
    """Team mode over the seeded store, with one maintainer and one reviewer."""
    roles = {"mia@example.com": "maintainer", "rex@example.com": "reviewer"}
    monkeypatch.setenv("RNR_CONFIG", str(write_team_config(tmp_path / "rnr-config.toml", roles)))
    access.reload()
    yield app_db
    monkeypatch.delenv("RNR_CONFIG")
    access.reload()


def _adjudicate_page() -> None:
    """The Adjudicate page reached without the navigation (a stale link): the page guards itself."""
    import runpy

    from tests.apptest import APP

    runpy.run_path(str(APP.parent / "pages" / "adjudicate.py"))


@pytest.mark.parametrize(
    "email, rules", [("rex@example.com", False), ("mia@example.com", True)], ids=["reviewer", "maintainer"]
)
def test_only_a_maintainer_is_shown_the_disputes_and_rulings(team, email, rules):
    _, ids = team
    store = state.store()
    store.set_labels_per_item("review", 2, "mia")
    store.review([ids["disputed"]], "accept", "ada")
    store.review([ids["disputed"]], "reject", "bob", reason="unsafe")
    at = AppTest.from_function(_adjudicate_page, default_timeout=TIMEOUT)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "email_verified": True, "email": email, "sub": email}
    at.run()
    assert not at.exception, at.exception
    assert bool(at.button) == rules and ("bob: reject (Unsafe)" in texts(at)) == rules
    if not rules:
        assert "You are a reviewer: adjudicating disagreements is for maintainers." in texts(at)
