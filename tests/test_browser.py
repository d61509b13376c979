"""The app in a real browser: Debian's chromium driven by Playwright, against `streamlit run app.py`."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.app_data import IMG, SCRIPT, seed
from tests.browser import ROOT, browser_page, idle, needs_chromium, serve

pytestmark = needs_chromium


@pytest.fixture
def app_url(tmp_path):
    """The app on a free loopback port over a store seeded with the demo data and hostile samples."""
    db = tmp_path / "app.duckdb"
    ids = seed(db)
    with serve(db, tmp_path) as url:
        yield url, ids, tmp_path


@pytest.fixture
def page():
    with browser_page() as pg:
        yield pg


def goto(page, url: str, name: str, shots: Path) -> None:
    page.get_by_role("link", name=name).click()
    idle(page)
    page.get_by_role("heading", name=name).wait_for()
    page.screenshot(path=str(shots / f"{name.lower().replace(' ', '_')}.png"), full_page=True)


def assert_inert(page) -> None:
    """Stored markup stays text: no dialog, no element made from it."""
    assert page.dialogs == []
    assert page.locator('img[src="x"]').count() == 0
    assert page.locator("script", has_text="alert(1)").count() == 0


def keys(page, *presses: str) -> None:
    """Keyboard shortcuts, with focus away from any text field."""
    for key in presses:
        page.get_by_role("heading", name="Review").click()
        page.keyboard.press(key)
        idle(page)


def header(page, text: str) -> None:
    """Wait for the Review page to show `text`; on a timeout, say what it shows instead."""
    try:
        page.get_by_text(text, exact=False).first.wait_for()
    except Exception as exc:
        page.screenshot(path=str(page.shots / "failure.png"), full_page=True)
        shown = [
            *page.locator("strong").all_inner_texts(),
            *page.get_by_test_id("stAlert").all_inner_texts(),
            *page.get_by_test_id("stException").all_inner_texts(),
        ]
        raise AssertionError(f"expected {text!r}; the page shows {shown}") from exc


def test_generate_review_audit_export(app_url, page):
    url, ids, tmp = app_url
    shots = Path(os.environ.get("RNR_SCREENSHOTS") or tmp / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    page.shots = shots
    page.goto(url)
    idle(page)
    page.get_by_role("heading", name="RNR Studio").wait_for()
    page.screenshot(path=str(shots / "home.png"), full_page=True)

    goto(page, url, "Generate", shots)
    for label, value in (
        ("Instructions (count)", "2"),
        ("K (instructions per system prompt)", "2"),
        ("Rules per system prompt", "2"),
    ):
        page.get_by_label(label).fill(value)
    for label in ("Tempting turns", "Out-of-scope turns"):
        page.get_by_text(label, exact=True).click()  # the quality gate's Auto is off for the embedded model
    page.get_by_role("slider", name="Verifiable share of rules").press("Home")  # no rejection rounds
    page.get_by_role("button", name="Start generation").click()
    # The Runs panel shows the seeded run until the new one is picked; its id is ten hex digits.
    page.get_by_text(re.compile(r"^run-[0-9a-f]{10} · ")).wait_for()
    ended = page.get_by_text(re.compile(r"^(completed|failed|cancelled|stopped)$"))
    ended.wait_for(timeout=600_000)
    assert ended.inner_text() == "completed", page.get_by_test_id("stAlert").all_inner_texts()
    page.screenshot(path=str(shots / "generate_done.png"), full_page=True)

    goto(page, url, "Review", shots)
    header(page, f"Sample {ids['disputed']} ·")
    for hostile in (SCRIPT, IMG):
        page.get_by_test_id("stText").filter(has_text=hostile).first.wait_for()  # shown, as text
    assert_inert(page)
    page.get_by_text("Edit", exact=True).click()
    page.get_by_label("Response").fill("Edited in the browser: the exhibit is old.")
    page.get_by_role("button", name="Save edit").click()
    idle(page)
    page.locator("code", has_text="+Edited in the browser").first.wait_for()

    keys(page, "j")
    header(page, f"Sample {ids['plain']} ·")
    page.get_by_label("Reject reason").click()
    page.get_by_role("option", name="Low quality").click()
    page.get_by_role("button", name=re.compile(r"^Reject(?! all)")).click()
    header(page, f"Sample {ids['failing']} ·")  # rejecting moves on
    keys(page, "k")
    header(page, f"Sample {ids['plain']} · rejected · Low quality")
    for key, shows in (
        ("k", f"Sample {ids['disputed']} ·"),
        ("a", f"Sample {ids['plain']} ·"),
        ("k", f"Sample {ids['disputed']} · accepted"),
    ):
        keys(page, key)
        header(page, shows)  # each key acts on the page the previous one left
    assert_inert(page)

    goto(page, url, "Judge audit", shots)
    page.get_by_role("button", name="Pass").click()
    page.get_by_text("Saved: pass on sample", exact=False).wait_for()
    idle(page)
    page.get_by_role("tab", name="Agreement").click()
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    page.screenshot(path=str(shots / "judge_audit_agreement.png"), full_page=True)

    goto(page, url, "Export", shots)
    page.get_by_text("Include samples that failed", exact=False).click()
    idle(page)
    out = tmp / "export"
    page.get_by_label("Folder").fill(str(out))
    page.get_by_label("Folder").press("Enter")
    idle(page)
    page.get_by_role("button", name="Export", exact=True).click()
    page.get_by_text("Wrote", exact=False).first.wait_for()
    page.screenshot(path=str(shots / "export_done.png"), full_page=True)
    rows = [json.loads(line) for name in ("train", "test") for line in (out / f"{name}.jsonl").open()]
    replies = [r["messages"][-1]["content"] for r in rows]
    assert "Edited in the browser: the exhibit is old." in replies
    assert "The cafe is on the first floor." not in replies  # rejected
    assert_inert(page)


def test_cli_names_the_app_holding_the_store(app_url, page):
    url, _, tmp = app_url
    page.goto(url)
    idle(page)
    page.get_by_role("heading", name="RNR Studio").wait_for()
    db = tmp / "app.duckdb"
    done = subprocess.run(
        [sys.executable, "-m", "rnr_core.cli", "stats", "--db", str(db)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "in use by another process" in done.stderr and "RNR Studio app" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_deep_link_on_a_fresh_server_still_goes_through_the_app(app_url, page):
    url, ids, _ = app_url
    page.goto(f"{url}/audit")  # the server's first visit
    idle(page)
    page.get_by_role("heading", name="Judge audit").wait_for()
    page.get_by_role("textbox", name="Reviewer").wait_for()  # the sidebar app.py draws
    assert page.get_by_role("link", name="Judge audit").count() == 1  # titled navigation, not file names
