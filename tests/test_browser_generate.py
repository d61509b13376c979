"""The Generate page in chromium, as a new user meets it: the defaults work on the default model,
and an upload the page cannot read says what to pick in the page."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from rnr_core.ingest import ingest_file
from rnr_core.store import Store
from tests.browser import browser_page, idle, needs_chromium, serve

pytestmark = needs_chromium
DEMO = Path(__file__).resolve().parent.parent / "data" / "demo_alpaca.jsonl"
ENDED = re.compile(r"^(completed|failed|cancelled|stopped)$")


@pytest.fixture
def app(tmp_path):
    """The app over a new store that holds the demo instructions (so no demo run starts), and a page."""
    db = tmp_path / "fresh.duckdb"
    with Store(str(db)) as store:
        ingest_file(store, DEMO, "demo")
    shots = Path(os.environ.get("RNR_SCREENSHOTS") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    with serve(db, tmp_path) as url, browser_page() as page:
        page.goto(f"{url}/generate")  # a deep link goes through app.py, sidebar and all
        page.get_by_role("heading", name="Generate").wait_for(timeout=120_000)  # 2 shared cores
        idle(page)
        yield page, db, shots


def test_the_first_run_with_the_default_settings_on_the_default_model_makes_samples(app):
    page, db, shots = app
    page.get_by_role("button", name="Start generation").click()
    ended = page.get_by_test_id("stMarkdownContainer").get_by_text(ENDED)
    ended.wait_for(timeout=1_800_000)  # a full default run: minutes on 2 shared cores
    page.screenshot(path=str(shots / "generate_default_run.png"), full_page=True)
    alerts = page.get_by_test_id("stAlert").all_inner_texts()
    assert ended.inner_text() == "completed", alerts
    progress = page.get_by_test_id("stProgress").inner_text()
    made = int(re.search(r"([\d,]+) samples", progress).group(1).replace(",", ""))
    assert made > 0, progress
    picker = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text("Run", exact=True))
    shown = picker.locator("input").input_value()  # the picked option's label
    assert "running" not in shown, shown  # no stale status beside 'completed'


def test_a_headerless_csv_is_imported_by_picking_its_column(app, tmp_path):
    page, db, shots = app
    csv = tmp_path / "nohead.csv"
    csv.write_text("What is 2+2?,four\nName a colour.,red\n")
    page.get_by_text("Upload a file").click()
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(csv))
    idle(page)
    error = page.get_by_test_id("stAlert").first
    error.wait_for()
    assert "'Column'" in error.inner_text() and "--column" not in error.inner_text()
    _pick(page, "Format", "csv-no-header")
    _pick(page, "Column", "column 1")
    page.get_by_text("Line 2").wait_for()
    page.screenshot(path=str(shots / "generate_column_picker.png"), full_page=True)
    page.get_by_role("button", name="Import").click()
    idle(page)
    page.get_by_text("Imported 2 instructions into nohead").wait_for()


def _pick(page, label: str, option: str) -> None:
    """Choose an option of the selectbox labelled `label`, as a user does: open it, click the option. A
    rerun that lands while the list is open (the demo run's progress refreshes every second) closes it,
    as it would for a user, who opens it again."""
    wanted = page.get_by_role("option", name=option, exact=True)
    for _ in range(3):
        page.get_by_test_id("stSelectbox").filter(has_text=label).click()
        try:
            wanted.wait_for(timeout=10_000)
            wanted.click(timeout=10_000)
            break
        except PlaywrightTimeout:
            idle(page)
    else:
        raise AssertionError(f"the {label!r} list never showed {option!r}")
    idle(page)
