"""Team mode in chromium, logging in through a real OpenID Connect provider (oidc-provider-mock): what
each role can and cannot do, and that anyone else (unlisted, forged or expired cookie, no login
configured) sees nothing from the store."""

import json
import re
import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from tests.app_data import seed
from tests.browser import browser_page, idle, needs_chromium, serve
from tests.oidc import login, logout, team_app, write_auth, write_team_config
from tests.stub_server import StubServer

pytestmark = needs_chromium

ROLES = {
    "mia@example.com": "maintainer",
    "rex@example.com": "reviewer",
    "@viewers.example.com": "viewer",
}
SAMPLE_TEXT = "Tell me about this exhibit."  # the seeded store's first sample
USER_COOKIE = "_streamlit_user"  # Streamlit's signed login cookie (starlette_server_config.USER_COOKIE_NAME)


@pytest.fixture(scope="module")
def stub():
    """The team's model: a real OpenAI-compatible server on loopback, recording what it is sent."""
    with StubServer(default=("ok", "fine")) as server:
        yield server


@pytest.fixture(scope="module")
def app(tmp_path_factory, stub):
    """One team-mode app over a seeded store for the whole module, with ROLES and the stub as its model."""
    tmp = tmp_path_factory.mktemp("team")
    db = tmp / "app.duckdb"
    ids = seed(db)
    model = {"name": "team-stub", "base_url": stub.url, "model": "stub", "concurrency": 2, "timeout": 10}
    with team_app(db, tmp, ROLES, models=[model], export_root=tmp / "exports") as running:
        yield running, ids, tmp / "exports"


def nav(page) -> list[str]:
    """The pages the sidebar offers, by title (a link's text starts with its icon's name)."""
    return [
        text.split("\n")[-1]
        for text in page.get_by_test_id("stSidebarNav").get_by_role("link").all_inner_texts()
    ]


def buttons(page, name: str):
    return page.get_by_role("button", name=re.compile(f"^{re.escape(name)}"))


def shows_nothing(page) -> None:
    """No sidebar, no navigation, no sample: only the page that says why."""
    assert page.get_by_test_id("stSidebar").count() == 0
    assert page.get_by_text(SAMPLE_TEXT).count() == 0
    assert page.get_by_role("heading", name="Review").count() == 0


def goto(page, url: str) -> None:
    page.goto(url)
    idle(page)


def test_a_reviewer_reviews_and_labels_but_is_not_offered_generate_or_export(app):
    running, ids, _ = app
    with browser_page() as page:
        login(page, running, "rex@example.com")
        sidebar = page.get_by_test_id("stSidebar")
        sidebar.get_by_text("rex@example.com · reviewer").wait_for()
        assert sidebar.get_by_label("Reviewer").count() == 0  # the reviewer is the login
        assert sidebar.get_by_role("combobox").count() == 0  # no model to pick: a reviewer runs none
        assert nav(page) == ["Home", "Review", "Judge audit", "Compare"]
        for deep in ("generate", "export"):  # not reachable by address either
            goto(page, f"{running.url}/{deep}")
            assert buttons(page, "Start generation").count() == buttons(page, "Export").count() == 0
        goto(page, f"{running.url}/review")
        page.get_by_text(f"Sample {ids['disputed']}").first.wait_for()
        page.get_by_label("Note").fill("checked by the login")
        page.get_by_label("Note").press("Enter")
        idle(page)
        page.get_by_role("button", name=re.compile(r"^Reject(?! all)")).click()
        idle(page)
        page.get_by_text(f"Sample {ids['plain']}").first.wait_for()
        page.get_by_role("button", name="Previous").click()
        idle(page)
        page.get_by_text("Note by rex@example.com: checked by the login").wait_for()
        goto(page, f"{running.url}/audit")
        page.get_by_role("button", name="Pass").click()
        idle(page)
        page.get_by_text(re.compile(r"Saved: pass on sample \d+")).wait_for()


def test_a_viewer_reads_but_cannot_accept_label_or_edit(app):
    running, ids, _ = app
    with browser_page() as page:
        login(page, running, "val@viewers.example.com", "review")
        page.get_by_text(SAMPLE_TEXT).first.wait_for()
        page.get_by_text("You are a viewer: accepting, rejecting and editing samples is for").wait_for()
        for name in ("Accept", "Reject", "Accept all in filter", "Re-judge"):
            assert buttons(page, name).count() == 0, name
        page.get_by_role("heading", name="Review").click()
        page.keyboard.press("a")  # Accept's shortcut does nothing without the button
        idle(page)
        assert page.get_by_text(f"Sample {ids['disputed']}").first.is_visible()
        assert nav(page) == ["Home", "Review", "Judge audit", "Compare"]
        goto(page, f"{running.url}/audit")
        page.get_by_text("You are a viewer: labelling verdicts is for").wait_for()
        assert buttons(page, "Pass").count() == 0


def test_a_maintainer_generates_on_the_operators_model_and_exports_for_download(app, stub):
    running, _, exports = app
    with browser_page() as page:
        login(page, running, "mia@example.com", "generate")
        assert nav(page) == [
            "Home",
            "Generate",
            "Review",
            "Judge audit",
            "Compare",
            "Adjudicate",
            "Export",
            "Train",
        ]
        sidebar = page.get_by_test_id("stSidebar")
        picker = sidebar.get_by_role("combobox", name="Team model")  # by name: no URL or key variable
        assert picker.input_value() == "team-stub"
        sidebar.get_by_text("Work goes to: team-stub").wait_for()  # by the operator's name, not its URL
        assert stub.url not in sidebar.inner_text()
        sidebar.get_by_role("button", name="Test connection").click()
        idle(page)
        sidebar.get_by_text(
            re.compile(rf"Connected to openai:stub@{re.escape(stub.url)} in \d+ ms")
        ).wait_for()
        assert (
            sidebar.get_by_label("Base URL").count() == sidebar.get_by_label("API key variable").count() == 0
        )
        sent = len(stub.requests)
        page.get_by_role("button", name="Start generation").click()
        idle(page)
        page.get_by_role("heading", name="Runs").wait_for()
        deadline = time.monotonic() + 30
        while len(stub.requests) == sent and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(stub.requests) > sent  # the run went to the operator's endpoint
        goto(page, f"{running.url}/export")
        folder = page.get_by_role("textbox", name="Folder name")
        folder.fill("../outside")
        folder.press("Enter")
        idle(page)
        page.get_by_role("button", name="Export", exact=True).click()
        idle(page)
        page.get_by_text("must be a plain folder name").wait_for()
        folder.fill("team-export")
        folder.press("Enter")
        idle(page)
        page.get_by_role("button", name="Export", exact=True).click()
        idle(page)
        # The first export loads the embedding model for the near-duplicate check: longer than 30 s when busy.
        wrote = re.compile(r"Wrote \d+ train and \d+ test samples to team-export\.")
        page.get_by_text(wrote).wait_for(timeout=180_000)
        assert str(exports) not in page.inner_text("body")  # no server path on the page
        with page.expect_download() as download:
            page.get_by_role("button", name="Download manifest.json").click()
        manifest = json.loads(open(download.value.path()).read())
    assert manifest["exported_by"] == "mia@example.com"
    assert (exports / "team-export" / "manifest.json").is_file()
    assert not (exports.parent / "outside").exists()


def test_an_unlisted_login_sees_its_identity_and_nothing_else_until_it_logs_out(app):
    running, _, _ = app
    with browser_page() as page:
        login(page, running, "eve@elsewhere.example")
        page.get_by_role("heading", name="No access").wait_for()
        page.get_by_text("You are logged in as eve@elsewhere.example").wait_for()
        shows_nothing(page)
        goto(page, f"{running.url}/review")  # a deep link gets the same page
        page.get_by_role("heading", name="No access").wait_for()
        shows_nothing(page)
        logout(page, running)
        page.get_by_role("button", name="Log in").wait_for()
        shows_nothing(page)


def signed(secret: str, payload: dict, age_s: float = 0) -> str:
    """A login cookie as Streamlit signs it (itsdangerous, salted with the cookie's name), `age_s` old."""

    class Then(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - age_s)

    return URLSafeTimedSerializer(secret, salt=USER_COOKIE, signer=Then).dumps(json.dumps(payload))


@pytest.mark.parametrize(
    "forged",
    [
        pytest.param(lambda app, claims: signed("not-the-servers-secret", claims), id="wrong secret"),
        pytest.param(lambda app, claims: signed(app.cookie_secret, claims, age_s=40 * 86400), id="expired"),
        pytest.param(
            lambda app, claims: signed(app.cookie_secret, claims)[:-3] + "abc", id="tampered signature"
        ),
    ],
)
def test_a_forged_or_expired_login_cookie_gets_the_login_page(app, forged):
    running, _, _ = app
    claims = {
        "email": "mia@example.com",
        "sub": "mia@example.com",
        "is_logged_in": True,
        "origin": running.url,
        "provider": "default",
    }
    with browser_page() as page:
        page.context.add_cookies(
            [{"name": USER_COOKIE, "value": forged(running, claims), "url": running.url}]
        )
        goto(page, f"{running.url}/review")
        page.get_by_role("button", name="Log in").wait_for()
        shows_nothing(page)


def test_the_same_cookie_signed_by_the_server_logs_in(app):
    """The forgery test's control: its cookie, made as the server makes it, is accepted."""
    running, _, _ = app
    claims = {"email": "rex@example.com", "sub": "rex", "is_logged_in": True, "origin": running.url}
    with browser_page() as page:
        value = signed(running.cookie_secret, {**claims, "provider": "default"})
        page.context.add_cookies([{"name": USER_COOKIE, "value": value, "url": running.url}])
        goto(page, f"{running.url}/review")
        page.get_by_text("rex@example.com · reviewer").wait_for()


def test_team_mode_without_login_configured_says_what_is_missing_and_shows_nothing(tmp_path):
    db = tmp_path / "app.duckdb"
    seed(db)
    config = write_team_config(tmp_path / "rnr-config.toml", ROLES)
    secrets = write_auth(tmp_path / "secrets.toml", "http://127.0.0.1:9", None, client_secret=None)
    with (
        serve(db, tmp_path, "--secrets.files", str(secrets), RNR_CONFIG=str(config)) as url,
        browser_page() as page,
    ):
        goto(page, url)
        page.get_by_text("login is not configured").wait_for()
        shown = page.inner_text("body")
        assert "lacks cookie_secret, client_secret." in shown
        # A page anyone can reach names no server path: the operator finds them in the server's log.
        assert str(secrets) not in shown and str(config) not in shown and str(tmp_path) not in shown
        assert page.get_by_role("button", name="Log in").count() == 0
        shows_nothing(page)
    logged = "".join(p.read_text() for p in tmp_path.glob("streamlit-*.log"))
    assert str(secrets) in logged and str(config) in logged and "cookie_secret, client_secret" in logged
