"""The Export page in chromium: a message belongs to the export it reports on; nothing is replaced unasked."""

import os
import re
from pathlib import Path

import pytest

from tests.app_data import seed
from tests.browser import browser_page, idle, needs_chromium, serve

pytestmark = needs_chromium
DOWNLOADS = re.compile(r"^Download ")


@pytest.fixture
def export_page(tmp_path):
    """The Export page of the app over the seeded store: two samples that pass, under one system prompt."""
    db = tmp_path / "app.duckdb"
    seed(db)
    shots = Path(os.environ.get("RNR_SCREENSHOTS") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    with serve(db, tmp_path) as url, browser_page() as page:
        page.goto(f"{url}/export")
        idle(page)
        page.get_by_role("heading", name="Export").wait_for()
        page.shots = shots
        yield page


def click(page, button: str, shows: str, shot: str) -> None:
    """Press `button`, wait for `shows` to appear, then for the run to end (stale elements go only then)."""
    page.get_by_role("button", name=button, exact=True).click()
    # The first export of a process loads the embedding model for the near-duplicate check (seconds to
    # tens of seconds on a busy 2-core machine), so the message gets longer than Playwright's default.
    page.get_by_text(shows).first.wait_for(timeout=180_000)
    idle(page)
    page.screenshot(path=str(page.shots / f"{shot}.png"), full_page=True)


def export_to(page, folder: Path, shows: str, shot: str) -> None:
    page.get_by_label("Folder").fill(str(folder))
    page.get_by_label("Folder").press("Enter")
    idle(page)
    click(page, "Export", shows, shot)


def shown(page) -> list[str]:
    return page.get_by_test_id("stAlert").all_inner_texts()


def files(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


def test_a_failed_export_leaves_nothing_of_the_one_before(export_page, tmp_path, unwritable_outs):
    page, good, bad = export_page, tmp_path / "first", unwritable_outs["parent is a file"]
    export_to(page, good, f"Wrote 2 train and 0 test samples to {good}.", "export_ok")
    assert page.get_by_role("button", name=DOWNLOADS).count() == 4  # the splits, the card, the manifest
    with page.expect_download() as download:
        page.get_by_role("button", name="Download train.jsonl").click()
    assert Path(download.value.path()).read_bytes() == (good / "train.jsonl").read_bytes()

    export_to(page, bad, "not a directory", "export_failed")
    assert str(bad) in page.get_by_test_id("stAlert").filter(has_text="not a directory").inner_text()
    assert page.get_by_text("Wrote ").count() == 0, shown(page)  # the first export's success is gone
    assert page.get_by_role("button", name=DOWNLOADS).count() == 0

    # One system prompt cannot give a 10% test share: the preview says so, and so does the export.
    few = "with 1 system prompt the test split holds 0% of the samples (0 of 2), not 10%"
    click(page, "Preview counts", few, "export_preview")
    assert page.get_by_text("not a directory").count() == 1  # another action: the export's error stays
    export_to(page, tmp_path / "second", "Wrote 2 train and 0 test samples", "export_warned")
    warned = page.get_by_test_id("stAlert").filter(has_text=few)  # the dataset card says it too
    assert warned.count() == 2 and page.get_by_text("not a directory").count() == 0


def test_an_earlier_export_is_replaced_only_after_asking(export_page, tmp_path):
    page, out, ask = export_page, tmp_path / "out", "Replace those files?"
    wrote = f"Wrote 2 train and 0 test samples to {out}."
    export_to(page, out, wrote, "export_first")
    before = files(out)

    click(page, "Export", ask, "export_confirm")
    asked = page.get_by_test_id("stAlert").filter(has_text=ask).inner_text()
    assert f"The folder {out} already holds train.jsonl, test.jsonl, README.md, manifest.json" in asked
    assert "an export of 2 train and 0 test samples" in asked
    assert page.get_by_text("Wrote ").count() == 0 and page.get_by_role("button", name=DOWNLOADS).count() == 0
    assert files(out) == before  # nothing written yet

    page.get_by_role("button", name="Cancel").click()
    page.get_by_text(ask).wait_for(state="detached")
    idle(page)
    assert files(out) == before

    click(page, "Export", ask, "export_confirm_again")
    click(page, "Replace files", wrote, "export_replaced")
    assert page.get_by_text(ask).count() == 0
    after = files(out)
    assert after.keys() == before.keys() and all(after[n] != before[n] for n in before)
