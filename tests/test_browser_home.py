"""Home follows the store in chromium: two tabs left open while a background run, started from the
Generate page in a third tab, goes through to its end show that end without a reload."""

import re
import time

from rnr_core.store import Store
from tests.app_data import seed
from tests.browser import browser_page, idle, needs_chromium, serve
from tests.conftest import GOOD_SP
from tests.stub_server import StubServer

pytestmark = needs_chromium

STUB_S = 3  # each model call takes this long, so the run is seen running before it ends
RUN_WAIT_S = 240
LAG_S = 20  # how long an open Home may lag behind the store (it checks every few seconds)
LOAD_MS = 120_000  # a page load on a busy 2-core machine
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}")


def shown(page) -> tuple[str, list[str]]:
    """Home's sample count and the cells of its runs table, as the user reads them."""
    page.bring_to_front()  # chromium draws charts and tables only in the tab in front, as a user sees it
    idle(page)
    samples = page.get_by_test_id("stMetric").filter(has_text="Samples").get_by_test_id("stMetricValue")
    grid = page.get_by_test_id("stDataFrame").locator('[role="gridcell"]')
    deadline = time.monotonic() + LOAD_MS / 1000
    # A redraw may have the table mid-mount: its cells can be gone again by the time they are read.
    while not (cells := grid.all_inner_texts()) and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert cells, "Home's runs table never drew a cell"
    return samples.inner_text(), [c.strip().lower() for c in cells]


def reloaded(page, url: str) -> tuple[str, list[str]]:
    """What Home shows on a fresh load: the store as it is."""
    page.bring_to_front()
    page.goto(url, timeout=LOAD_MS)
    page.get_by_role("heading", name="RNR Studio").wait_for(timeout=LOAD_MS)
    idle(page)  # the heading comes before the runs table: read the page once its run has drawn it all
    return shown(page)


def start_run(page, url: str, spec: str) -> None:
    """On the Generate page: the stub model, two groups of two free-form samples, then Start."""
    page.bring_to_front()
    page.goto(f"{url}/generate", timeout=LOAD_MS)
    page.get_by_role("heading", name="Generate").wait_for(timeout=LOAD_MS)
    page.get_by_text("Model", exact=True).click()
    page.get_by_role("textbox", name="Model spec").fill(spec)
    page.get_by_role("textbox", name="Model spec").press("Enter")
    idle(page)
    for label, value in (
        ("Instructions (count)", "4"),
        ("K (instructions per system prompt)", "2"),
        ("Rules per system prompt", "2"),
    ):
        page.get_by_label(label).fill(value)
    for label in ("Tempting turns", "Out-of-scope turns", "Quality gate"):
        page.get_by_text(label, exact=True).click()
    page.get_by_role("slider", name="Verifiable share of rules").press("Home")
    page.get_by_role("button", name="Start generation").click()
    idle(page)


def test_home_follows_a_run_to_its_end_in_two_tabs(tmp_path):
    db = tmp_path / "app.duckdb"
    seed(db)  # the demo dataset and a finished run of 3 samples, so the app starts no demo run
    shots = tmp_path / "shots"
    shots.mkdir()
    slow = lambda body: ("sleep", STUB_S, ("ok", GOOD_SP if "response_format" in body else "Fine."))  # noqa: E731
    with (
        StubServer(default=slow) as stub,
        serve(db, tmp_path, OPENAI_API_KEY="sk-test") as url,
        browser_page() as first,
    ):
        second, third = (
            first.context.browser.new_page(viewport={"width": 1400, "height": 1000}) for _ in "ab"
        )
        before = [reloaded(page, url) for page in (first, second)]
        start_run(third, url, f"openai:stub@{stub.url}")
        # The third tab reloads Home until the run has ended; the two others must follow without one.
        deadline = time.monotonic() + RUN_WAIT_S
        while "running" in (truth := reloaded(third, url))[1] and time.monotonic() < deadline:
            third.wait_for_timeout(1000)
        assert "running" not in truth[1], f"the run did not end within {RUN_WAIT_S} s: {truth}"
        lag = time.monotonic() + LAG_S
        while time.monotonic() < lag and any(shown(page) != truth for page in (first, second)):
            first.wait_for_timeout(500)
        after = [shown(page) for page in (first, second)]
        for name, page in (("first", first), ("second", second), ("reloaded", third)):
            page.screenshot(path=str(shots / f"home_{name}_tab.png"), full_page=True)
        ticks = first.locator(".js-plotly-plot .xtick text").all_text_contents()
    with Store(str(db)) as store:
        statuses = store.run_statuses()
        samples = sum(store.samples_by_status().values())
    new_run = next(iter(statuses))  # newest first
    assert truth[0] == f"{samples:,}" and new_run in truth[1] and statuses[new_run] in truth[1]
    assert before[0] == before[1] and new_run not in before[0][1] and before[0][0] != truth[0]
    for tab, seen in zip(("first", "second"), after):
        # the store as it is once the run ended, without a reload (see the screenshots in `shots`)
        assert seen == truth, f"the {tab} tab shows {seen}; after a reload Home shows {truth}"
    assert ticks and not any(ISO_TIME.search(t) for t in ticks), f"time axis labels {ticks}"
