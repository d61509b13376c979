"""Who may use the app, through AppTest: personal mode on a network address, team mode's gate, and each
role's pages and controls. The browser tests (test_browser_team.py) log in through a real provider."""

import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from rnr_app import state
from rnr_core import access
from rnr_core.errors import SettingError
from tests.apptest import TIMEOUT, open_page, plain, texts
from tests.oidc import NO_SERVER, write_team_config

ROLES = {
    "mia@example.com": "maintainer",
    "ops@example.com": "maintainer",
    "rex@example.com": "reviewer",
    "@viewers.example.com": "viewer",
}
AUTH = {
    "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
    "cookie_secret": "a-long-random-secret-for-the-tests",
    "client_id": "rnr-studio",
    "client_secret": "rnr-studio-secret",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}


@pytest.fixture
def address():
    """Set the server address the app sees (st.get_option), and put the configured one back after."""
    kept = st_config.get_option("server.address")
    yield lambda value: st_config.set_option("server.address", value)
    st_config.set_option("server.address", kept)


@pytest.fixture
def team(app_db, tmp_path, monkeypatch):
    """Team mode over the seeded store: the operator's file names ROLES and one model."""
    models = [{**NO_SERVER, "name": name} for name in ("small", "large")]
    path = write_team_config(tmp_path / "rnr-config.toml", ROLES, models, export_root=tmp_path / "exports")
    monkeypatch.setenv("RNR_CONFIG", str(path))
    access.reload()
    yield app_db
    monkeypatch.delenv("RNR_CONFIG")
    access.reload()


def run(page: str | None = None, user: dict | None = None, auth: dict | None = AUTH) -> AppTest:
    """The app as `user` (st.user's claims; None: logged out) with `auth` as [auth] in the secrets."""
    claims = {"is_logged_in": True, "email_verified": True, **user} if user else {"is_logged_in": False}
    return open_page(page, secrets=None if auth is None else {"auth": auth}, user=claims)


def labels(at: AppTest) -> set[str]:
    return {b.label for b in at.button}


def shows_nothing_of_the_store(at: AppTest, ids: dict) -> None:
    """No sidebar, no navigation, no sample: only the page that says why."""
    assert not at.sidebar.children, [str(c) for c in at.sidebar.children.values()]
    shown = texts(at)
    assert "museum guide" not in shown and "Sample" not in shown
    assert not at.dataframe


@pytest.mark.parametrize("where", ["0.0.0.0", "", "192.168.1.20", "::", "rnr.example.com"])
def test_personal_mode_on_a_network_address_shows_nothing_and_says_how_to_serve_a_team(
    app_db, address, where
):
    _, ids = app_db
    address(where)
    at = run(auth=None)
    shown = texts(at)
    assert "Personal mode is for one person on their own machine" in shown
    assert 'mode = "team"' in shown and "127.0.0.1" in shown
    shows_nothing_of_the_store(at, ids)


@pytest.mark.parametrize("where", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_personal_mode_on_loopback_is_as_before(app_db, address, where):
    address(where)
    assert {"Accept", "Reject"} <= labels(run("pages/review.py", auth=None))
    assert [t.label for t in run(auth=None).text_input if t.key == "reviewer"] == ["Reviewer"]


def test_a_bad_operator_file_shows_visitors_nothing_and_logs_the_entry(app_db, tmp_path, monkeypatch, caplog):
    _, ids = app_db
    path = write_team_config(tmp_path / "rnr-config.toml", {"ceo@corp.example": "owner"}, [NO_SERVER])
    monkeypatch.setenv("RNR_CONFIG", str(path))
    with pytest.raises(SettingError):
        access.reload()  # forgets the loaded file; the app reads the bad one on its next run
    try:
        at = run(auth=AUTH)
    finally:
        monkeypatch.delenv("RNR_CONFIG")
        access.reload()
    shown = texts(at)
    assert "configuration cannot be used" in shown and "server's log" in shown
    assert "ceo@corp.example" not in shown and str(path) not in shown and "owner" not in shown
    logged = caplog.text
    assert str(path) in logged and "ceo@corp.example" in logged  # the operator's terminal says which entry
    shows_nothing_of_the_store(at, ids)


def test_team_mode_without_login_names_what_is_missing_and_no_path(team):
    _, ids = team
    at = run(auth={"redirect_uri": AUTH["redirect_uri"], "client_id": "rnr-studio"})
    shown = texts(at)
    assert "login is not configured" in shown
    assert "cookie_secret, client_secret, server_metadata_url" in shown
    assert "secrets.toml" not in shown and "config.toml" not in shown  # paths go to the server's log only
    assert "redirect_uri" not in shown.split("lacks", 1)[1].split(".", 1)[0]
    assert "Log in" not in labels(at)
    shows_nothing_of_the_store(at, ids)


def test_logged_out_gets_only_the_login_button(team):
    _, ids = team
    at = run()
    assert labels(at) == {"Log in"}
    shows_nothing_of_the_store(at, ids)


def test_an_unlisted_login_sees_its_identity_and_no_access(team):
    _, ids = team
    at = run(user={"email": "eve@elsewhere.example", "sub": "eve"})
    assert "No access" in [t.value for t in at.title]
    assert "eve@elsewhere.example" in texts(at)
    assert labels(at) == {"Log out"}
    shows_nothing_of_the_store(at, ids)


def test_an_unverified_address_does_not_earn_its_domain_role(team):
    at = run(user={"email": "ivy@viewers.example.com", "email_verified": False, "sub": "ivy"})
    assert "No access" in [t.value for t in at.title]


def test_a_viewer_reads_without_any_control_that_writes(team):
    _, ids = team
    at = run("pages/review.py", user={"email": "val@viewers.example.com", "sub": "val"})
    assert f"Sample {ids['disputed']}" in texts(at)
    assert not {"Accept", "Reject", "Accept all in filter…", "Re-judge"} & labels(at)
    assert (
        "You are a viewer: accepting, rejecting and editing samples is for reviewers and maintainers"
        in texts(at)
    )
    assert not [t for t in at.toggle if t.label == "Edit"]
    at = run(user={"email": "val@viewers.example.com", "sub": "val"})  # AppTest draws the sidebar on Home
    sidebar = "\n".join(plain(c.value) for c in at.sidebar.caption)
    assert "val@viewers.example.com · viewer" in sidebar
    assert not [w for w in [*at.text_input, *at.selectbox] if w.key in ("reviewer", "team_model")]


def test_a_reviewer_reviews_and_labels_as_their_login(team):
    _, ids = team
    rex = {"email": "rex@example.com", "sub": "rex-sub"}
    at = run("pages/review.py", user=rex)
    assert not [t for t in at.text_input if t.key == "reviewer"]  # no name to type: it is the login
    next(b for b in at.button if b.label == "Accept").click().run()
    at.switch_page("pages/audit.py").run()
    next(b for b in at.button if b.label == "Pass").click().run()
    assert not at.exception, at.exception
    store = state.store()
    recorded = store._rows("SELECT action, reviewer FROM review_actions ORDER BY id")
    assert [(r["action"], r["reviewer"]) for r in recorded] == [
        ("accept", "rex@example.com"),
        ("label", "rex@example.com"),
    ]
    assert store.review_sample(ids["disputed"])["status"] == "accepted"


def test_a_reviewer_is_not_offered_generate_or_export(team):
    at = run(user={"email": "rex@example.com", "sub": "rex"})
    for page in ("pages/generate.py", "pages/export.py"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)


def _act_as_reviewer() -> None:
    """A page that records a review at once, whatever it draws: what a control drawn by mistake does."""
    import streamlit as st

    from rnr_app import state
    from rnr_core.errors import Forbidden

    try:
        st.write(f"recorded as {state.acting('review')}")
    except Forbidden as exc:
        st.error(exc.says("app"))


@pytest.mark.parametrize(
    "email, says",
    [
        ("rex@example.com", "recorded as rex@example.com"),
        ("val@viewers.example.com", "val@viewers.example.com is a viewer and may not review"),
    ],
)
def test_every_write_asks_the_policy_at_the_moment_it_is_done(team, email, says):
    at = AppTest.from_function(_act_as_reviewer, default_timeout=TIMEOUT)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "email": email, "sub": email}
    at.run()
    assert says in texts(at)


def test_a_maintainer_picks_the_operators_model_by_name_and_it_is_kept_for_their_login_only(team):
    mia = {"email": "mia@example.com", "sub": "mia"}
    at = run(user=mia)
    assert at.selectbox(key="team_model").options == ["small", "large"]
    assert not [w for w in at.text_input if w.key in ("base_url", "key_env", "model_spec", "reviewer")]
    at.selectbox(key="team_model").set_value("large").run()
    shown = texts(at)
    assert "Work goes to: large" in shown  # by the operator's name: the endpoint and the store stay theirs
    assert not [t for t in shown if "127.0.0.1:9" in t or "Store: " in t]
    assert run(user=mia).selectbox(key="team_model").value == "large"  # a new visit, the same login
    ops = {"email": "ops@example.com", "sub": "ops"}
    assert run(user=ops).selectbox(key="team_model").value == "small"  # another login: the default
