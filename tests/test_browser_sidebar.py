"""The sidebar and the demo in Debian's chromium: no credential on any page, settings that survive a
reload and a restart, an incomplete endpoint that says what is missing, and a fresh store's demo."""

import re

import pytest

from rnr_core.store import Store
from tests.app_data import seed
from tests.browser import browser_page, idle, needs_chromium, serve

pytestmark = needs_chromium

SECRET = "S3cretPass"
PAGES = ("Home", "Generate", "Review", "Judge audit", "Export")
CHOSEN = {
    "Reviewer": "ada-lovelace",
    "Base URL": "http://127.0.0.1:9/v1",
    "Model name": "smollm2",
    "API key variable": "MY_KEY_VAR",
    "Timeout (s)": "30.00",
    "Concurrency": "4",
}


@pytest.fixture
def seeded(tmp_path):
    db = tmp_path / "app.duckdb"
    # The operator lets a model read its key from MY_KEY_VAR too (serve's RNR_HOME is tmp_path/home).
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "config.toml").write_text('key_envs = ["OPENAI_API_KEY", "MY_KEY_VAR"]\n')
    return db, seed(db)


def sidebar(page):
    return page.get_by_test_id("stSidebar")


def field(page, label: str):
    """A sidebar text or number field by its label."""
    return sidebar(page).locator(f'input[aria-label="{label}"]')


def open_model(page) -> None:
    """Unfold the sidebar's Model settings."""
    if not field(page, "API key variable").is_visible():
        sidebar(page).get_by_text("Model", exact=True).click()
        field(page, "API key variable").wait_for()


def type_in(page, label: str, value: str) -> None:
    """Type into a sidebar field and commit it, as a user does with Enter."""
    box = field(page, label)
    box.fill(value)
    box.press("Enter")
    idle(page)


def choose_endpoint(page) -> None:
    open_model(page)
    sidebar(page).get_by_text("Endpoint", exact=True).click()
    field(page, "Base URL").wait_for()
    idle(page)


def visit(page, name: str) -> None:
    page.get_by_role("link", name=name).click()
    idle(page)
    page.get_by_role("heading", name="RNR Studio" if name == "Home" else name).wait_for()


def assert_no_secret(page, where: str) -> None:
    """The page settles without the credential: a refused value typed into a field is replaced by the
    previous one when the run that refuses it ends, which can be just after idle() returned."""
    for _ in range(50):
        if SECRET not in page.content():
            return
        page.wait_for_timeout(200)
    raise AssertionError(f"the credential is in the page's HTML ({where})")


def test_no_credential_typed_in_the_sidebar_reaches_any_page(seeded, tmp_path):
    db, _ = seeded
    with serve(db, tmp_path) as url, browser_page() as page:
        page.goto(url)
        idle(page)
        open_model(page)
        type_in(page, "Model spec", f"openai:m@http://user:{SECRET}@127.0.0.1:9/v1")
        for name in PAGES:
            visit(page, name)
            assert_no_secret(page, f"spec typed, {name}")
        visit(page, "Home")
        sidebar(page).get_by_text("carries a credential").first.wait_for()  # refused, and says why
        choose_endpoint(page)
        type_in(page, "Base URL", f"http://user:{SECRET}@127.0.0.1:9/v1")
        type_in(page, "Model name", "m")
        assert_no_secret(page, "endpoint typed, Home")
        type_in(page, "Base URL", f"http://127.0.0.1:9/v1?api_key={SECRET}")
        sidebar(page).get_by_role("button", name="Test connection").click()
        idle(page)
        assert_no_secret(page, "connection tested")
        for name in PAGES:
            visit(page, name)
            if name == "Generate":  # the error of a run the sidebar's model cannot start
                page.get_by_role("button", name="Start generation").click()
                idle(page)
            assert_no_secret(page, f"endpoint typed, {name}")
        page.reload()
        idle(page)
        assert_no_secret(page, "after a reload")
    from rnr_core.preferences import personal_owner

    with Store(str(db)) as store:
        assert SECRET not in str(store.preferences(personal_owner()))  # nor kept for the next visit


def choose_everything(page) -> None:
    type_in(page, "Reviewer", CHOSEN["Reviewer"])
    choose_endpoint(page)
    for label in ("Base URL", "Model name", "API key variable", "Timeout (s)", "Concurrency"):
        type_in(page, label, CHOSEN[label])


def assert_chosen(page, when: str) -> None:
    page.goto(page.url)
    idle(page)
    open_model(page)
    assert sidebar(page).get_by_role("radio", name="Endpoint").is_checked(), when
    shown = {label: field(page, label).input_value() for label in CHOSEN}
    assert shown == CHOSEN, when
    spec = f"openai:{CHOSEN['Model name']}@{CHOSEN['Base URL']}"
    sidebar(page).get_by_text(f"Work goes to: {spec}").wait_for()


def test_reviewer_and_model_settings_survive_a_reload_and_a_restart(seeded, tmp_path):
    db, ids = seeded
    with serve(db, tmp_path) as url, browser_page() as page:
        page.goto(url)
        idle(page)
        choose_everything(page)
        page.reload()
        assert_chosen(page, "after a reload")
    with serve(db, tmp_path) as url, browser_page() as page:  # a restarted server
        page.goto(url)
        assert_chosen(page, "after a restart")
        visit(page, "Review")
        page.get_by_role("button", name=re.compile(r"^Accept")).first.click()
        idle(page)
    with Store(str(db)) as store:
        assert store.review_sample(ids["disputed"])["reviewer"] == CHOSEN["Reviewer"]


def test_an_endpoint_with_empty_fields_names_what_is_missing_everywhere(seeded, tmp_path):
    db, _ = seeded
    missing = re.compile(r"needs a base URL and a model name")
    with serve(db, tmp_path) as url, browser_page() as page:
        page.goto(url)
        idle(page)
        choose_endpoint(page)
        sidebar(page).get_by_role("button", name="Test connection").click()
        idle(page)
        sidebar(page).get_by_text(missing).first.wait_for()
        assert "Connected to" not in page.content()
        page.get_by_test_id("stMain").get_by_text(
            re.compile(r"Model: not set: .*needs a base URL")
        ).wait_for()
        visit(page, "Generate")
        page.get_by_role("button", name="Start generation").click()
        idle(page)
        page.get_by_test_id("stMain").get_by_text(missing).first.wait_for()
        page.get_by_role("button", name="Judge run").click()
        idle(page)
        assert page.get_by_test_id("stMain").get_by_text(missing).count() >= 1


def test_a_fresh_store_leads_with_the_hand_written_demo(tmp_path):
    with serve(tmp_path / "fresh.duckdb", tmp_path) as url, browser_page() as page:
        page.goto(url)
        idle(page)
        page.get_by_text("Demo: hand-written samples", exact=False).wait_for(timeout=60_000)
        visit(page, "Review")
        page.get_by_text("customer help assistant of Northline Rail", exact=False).first.wait_for()
        page.get_by_text("checker: pass").first.wait_for()
        assert page.get_by_text("LLM judge").count() == 0  # no verdict the demo did not earn
