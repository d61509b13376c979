"""Home follows the store in chromium: two tabs left open while a background run ends show its end
without a reload, in readable charts."""

import re
import time

from rnr_core.store import Store
from tests.browser import browser_page, idle, needs_chromium, serve

pytestmark = needs_chromium

# The demo run on the embedded model takes about 35 s on an idle 2-core machine; far more under load.
RUN_WAIT_S = 900
# How long an open Home may lag behind the store once the run ended (it checks every few seconds).
LAG_S = 20
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}")


def shown(page) -> tuple[str, list[str]]:
    """Home's sample count and the cells of its runs table, as the user reads them."""
    idle(page)
    samples = page.get_by_test_id("stMetric").filter(has_text="Samples").get_by_test_id("stMetricValue")
    cells = page.get_by_test_id("stDataFrame").locator('[role="gridcell"]').all_inner_texts()
    return samples.inner_text(), [c.strip().lower() for c in cells]


def reloaded(page, url: str) -> tuple[str, list[str]]:
    """What Home shows on a fresh load: the store as it is."""
    page.goto(url)
    page.get_by_role("heading", name="RNR Studio").wait_for()
    page.get_by_test_id("stDataFrame").locator('[role="gridcell"]').first.wait_for(state="attached")
    return shown(page)


def test_home_follows_a_run_to_its_end_in_two_tabs(tmp_path):
    db = tmp_path / "fresh.duckdb"  # an empty store: the app imports the demo and starts its run
    shots = tmp_path / "shots"
    shots.mkdir()
    with serve(db, tmp_path) as url, browser_page() as first:
        browser = first.context.browser
        second, oracle = (browser.new_page(viewport={"width": 1400, "height": 1000}) for _ in range(2))
        before = [reloaded(page, url) for page in (first, second)]
        assert "running" in before[0][1], f"the demo run should be under way; Home shows {before[0]}"
        # A third tab reloads until the run has ended: the two others must then follow without one.
        deadline = time.monotonic() + RUN_WAIT_S
        while "running" in (truth := reloaded(oracle, url))[1] and time.monotonic() < deadline:
            oracle.wait_for_timeout(3000)
        assert "running" not in truth[1], f"the demo run did not end within {RUN_WAIT_S} s"
        lag = time.monotonic() + LAG_S
        while time.monotonic() < lag and any(shown(page) != truth for page in (first, second)):
            first.wait_for_timeout(500)
        after = [shown(page) for page in (first, second)]
        for name, page in (("first", first), ("second", second), ("reloaded", oracle)):
            page.screenshot(path=str(shots / f"home_{name}_tab.png"), full_page=True)
        ticks = first.locator(".js-plotly-plot .xtick text").all_inner_texts()
    with Store(str(db)) as store:
        (status,) = store.run_statuses().values()
        samples = sum(store.samples_by_status().values())
    assert truth == (f"{samples:,}", truth[1]) and status in truth[1], (truth, samples, status)
    assert samples > int(before[0][0].replace(",", "")), "the run should have added samples for Home to show"
    for tab, seen in zip(("first", "second"), after):
        # the store as it is once the run ended, without a reload (see the screenshots in `shots`)
        assert seen == truth, f"the {tab} tab shows {seen}; after a reload Home shows {truth}"
    assert ticks and not any(ISO_TIME.search(t) for t in ticks), f"time axis labels {ticks}"
