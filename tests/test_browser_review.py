"""Review and Judge audit in chromium: every input goes to the sample (or verdict) the user meant."""

import re

import pytest

from rnr_core.store import Store
from tests.app_data import seed
from tests.browser import browser_page, idle, needs_chromium, serve

pytestmark = needs_chromium


@pytest.fixture
def app(tmp_path):
    """The app over a seeded store, a chromium page on its Review page, the sample ids and the store path."""
    db = tmp_path / "app.duckdb"
    ids = seed(db)
    with serve(db, tmp_path) as url, browser_page() as page:
        page.goto(f"{url}/review")
        idle(page)
        page.get_by_role("heading", name="Review").wait_for()
        yield page, ids, db


def press(page, heading: str, *keys: str) -> None:
    """Keyboard shortcuts, with focus away from any text field."""
    for key in keys:
        page.get_by_role("heading", name=heading).click()
        page.keyboard.press(key)
        idle(page)


def shows(page, text: str) -> None:
    """Wait for `text` in the page, then for the run that drew it to end; on a timeout, say what the
    page shows instead."""
    try:
        page.get_by_text(text, exact=False).first.wait_for(timeout=20_000)
        idle(page)
    except Exception as exc:
        shown = [
            *page.locator("strong").all_inner_texts(),
            *page.get_by_test_id("stCaptionContainer").all_inner_texts(),
            *page.get_by_test_id("stAlert").all_inner_texts(),
            *page.get_by_test_id("stException").all_inner_texts(),
        ]
        raise AssertionError(f"expected {text!r}; the page shows {shown}") from exc


def reject_with(page, reason: str, note: str) -> None:
    page.get_by_label("Reject reason").click()
    page.get_by_role("option", name=reason).click()
    idle(page)
    page.get_by_label("Note").fill(note)
    page.get_by_label("Note").press("Enter")
    idle(page)
    page.get_by_role("button", name=re.compile(r"^Reject(?! all)")).click()
    idle(page)


def test_a_note_and_reason_stay_with_the_sample_they_were_given_for(tmp_path):
    db = tmp_path / "app.duckdb"
    ids = seed(db)
    with serve(db, tmp_path) as url, browser_page() as page:
        page.goto(f"{url}/review")
        idle(page)
        shows(page, f"Sample {ids['disputed']} ·")
        reject_with(page, "Low quality", "too short")
        shows(page, f"Sample {ids['plain']} ·")
        left_in_field = page.get_by_label("Note").input_value()
        reason_shown = page.get_by_label("Reject reason").input_value()
        press(page, "Review", "a")
        shows(page, f"Sample {ids['failing']} ·")
        press(page, "Review", "k")
        shows(page, f"Sample {ids['plain']} · accepted")
        shown_on_accepted = page.get_by_text("too short").count()
        press(page, "Review", "k")
        shows(page, f"Sample {ids['disputed']} · rejected · Low quality")
        shown_on_rejected = page.get_by_text("too short").count()
    # What was stored first: the app has stopped, so the store is free to read.
    with Store(str(db)) as store:
        rejected, accepted = store.get_sample(ids["disputed"]), store.get_sample(ids["plain"])
    assert (accepted["status"], accepted["reject_reason"], accepted["review_note"]) == (
        "accepted",
        None,
        None,
    )
    assert (rejected["status"], rejected["reject_reason"], rejected["review_note"]) == (
        "rejected",
        "low_quality",
        "too short",
    )
    # Then what was shown: the next sample starts without the note; each sample shows only its own.
    assert (left_in_field, shown_on_accepted) == ("", 0)
    assert reason_shown == "Rule broken"  # the default, not the reason given for the sample before
    assert shown_on_rejected == 1


def test_an_unsaved_edit_stays_with_its_sample_across_j_and_k(app):
    page, ids, db = app
    shows(page, f"Sample {ids['disputed']} ·")
    page.get_by_text("Edit", exact=True).click()
    idle(page)
    page.get_by_label("Response").fill("A draft, not saved yet.")
    page.get_by_role("heading", name="Review").click()  # leaving the field keeps what was typed
    idle(page)
    press(page, "Review", "j")
    shows(page, f"Sample {ids['plain']} ·")
    assert page.get_by_label("Response").input_value() == "The cafe is on the first floor."
    press(page, "Review", "k")
    shows(page, f"Sample {ids['disputed']} ·")
    assert page.get_by_label("Response").input_value() == "A draft, not saved yet."
    shows(page, "unsaved edit")
    page.get_by_role("button", name="Save edit").click()
    idle(page)
    page.locator("code", has_text="+A draft, not saved yet.").first.wait_for()
    press(page, "Review", "j")
    shows(page, f"Sample {ids['plain']} ·")
    # the diff of that save stays with its sample
    assert page.locator("code", has_text="A draft, not saved yet.").count() == 0
    assert page.get_by_label("Response").input_value() == "The cafe is on the first floor."


def test_audit_keys_label_and_skip_the_item_shown(app):
    from playwright.sync_api import expect

    page, ids, db = app
    page.get_by_role("link", name="Judge audit").click()
    idle(page)
    page.get_by_role("heading", name="Judge audit").wait_for()
    shows(page, f"Sample {ids['disputed']} · rule r1")  # checker and judge disagree: first
    assert page.get_by_role("radio", name="pass").count() == 0  # no answer chosen for the user
    item = page.locator("strong", has_text=re.compile(r"^Sample \d+ · rule")).first
    press(page, "Judge audit", "s")
    expect(item).not_to_have_text(f"Sample {ids['disputed']} · rule r1")  # skipped: the next one
    idle(page)
    # A click on the third row's selector picks that item (the grid's accessible table names its cells).
    grid = page.get_by_test_id("stDataFrame").first
    cells = [grid.get_by_test_id(f"glide-cell-{column}-2").inner_text() for column in (1, 2)]
    grid.click(position={"x": 14, "y": 35 * 2 + 52})
    idle(page)
    expect(item).to_have_text(f"Sample {cells[0]} · rule {cells[1]}")
    idle(page)
    shown = item.inner_text()
    press(page, "Judge audit", "f")
    shows(page, f"Saved: fail on {shown.replace('Sample', 'sample').replace(' · rule', ', rule')}.")
