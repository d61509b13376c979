"""The Train page in chromium: a tiny real fine-tune of the embedded model started from the form, watched
to the end, its loss charted and the fine-tune listed as the store holds it; Compare then offers it."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from rnr_core.export import export_samples
from rnr_core.store import Store
from tests.app_data import seed
from tests.browser import browser_page, idle, needs_chromium, serve
from tests.conftest import home_with_cache

pytestmark = [needs_chromium, pytest.mark.slow]
TRAIN_TIMEOUT_MS = 600_000  # loading and two steps of the 135M model on 2 busy cores


def cells(page) -> list[str]:
    """The fine-tunes list's cells, row by row (the grid draws on a canvas; its table is the fallback)."""
    found = page.get_by_test_id("stDataFrame").first.locator("td[role=gridcell]")
    found.first.wait_for(state="attached")  # drawn once the grid has laid out
    return found.all_text_contents()


def test_a_tiny_fine_tune_is_charted_listed_and_offered_on_compare(tmp_path, models_cache, gguf_path):
    db = tmp_path / "app.duckdb"
    seed(db)
    home = home_with_cache(tmp_path / "home", models_cache, gguf_path)
    with Store(str(db)) as store:
        export_samples(store, home / "exports" / "tiny", leakage_threshold=None)
    shots = Path(os.environ.get("RNR_SCREENSHOTS") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    with serve(db, tmp_path) as url, browser_page(height=1600) as page:
        page.goto(f"{url}/train")
        idle(page)
        page.get_by_role("heading", name="Train").wait_for()
        page.get_by_text("No fine-tunes yet").wait_for()
        offered = page.get_by_role("textbox", name="Export folder")
        expect(offered).to_have_value(str(home / "exports" / "tiny"))  # the newest export
        page.get_by_label("Name for the fine-tune").fill("parrot")
        for label, value in (("Max steps (0: the epochs decide)", "2"), ("Batch size", "2")):
            page.get_by_label(label).fill(value)
        page.get_by_label("Max length (tokens)").fill("128")
        page.get_by_role("button", name="Start training").click()
        page.get_by_role("heading", name="Training parrot").wait_for()
        page.get_by_test_id("stProgress").wait_for()
        page.get_by_text("Trained and registered as parrot").wait_for(timeout=TRAIN_TIMEOUT_MS)
        idle(page)
        page.screenshot(path=str(shots / "train_done.png"), full_page=True)
        assert page.get_by_test_id("stProgress").inner_text().strip() == "Step 2 of 2"
        chart = page.get_by_test_id("stPlotlyChart").first
        chart.locator(".scatterlayer .point").first.wait_for()
        assert chart.locator(".scatterlayer .point").count() == 2  # one point per logged step
        listed = cells(page)

        page.goto(f"{url}/compare")
        idle(page)
        # The demo opens on the fine-tune against the checkpoint it was trained from.
        picked = [page.get_by_label(f"Contestant {i}").input_value() for i in (1, 2)]
        assert picked == ["local (float32, as its fine-tunes start)", "parrot"]
        page.get_by_label("Contestant 2").click()
        # The float32 checkpoint parrot was trained from sits between: the fair base for a side-by-side.
        assert page.get_by_role("option").all_inner_texts() == [
            "local",
            "local (float32, as its fine-tunes start)",
            "parrot",
        ]
        page.screenshot(path=str(shots / "compare_offers_parrot.png"), full_page=True)
    with Store(str(db)) as store:  # the app has let go of the file: read what it stored
        (ft,) = store.fine_tunes()
        last = store.train_losses("parrot")[-1]
    name, base, status, _, steps, final, spec = listed
    assert (name, base, status, spec) == ("parrot", "local", ft["status"], ft["spec"])
    assert status == "completed"
    assert (int(steps), float(final)) == (last["step"], pytest.approx(last["loss"])) and last["step"] == 2
