"""The Compare page's live demo in chromium: the embedded model against itself at two temperatures, blind,
streamed side by side and judged; a vote reveals the names and puts both on the leaderboard."""

import re

import pytest

from rnr_core.store import Store
from tests.app_data import seed
from tests.browser import browser_page, idle, needs_chromium, serve

pytestmark = [needs_chromium, pytest.mark.slow]
ANSWER_TIMEOUT_MS = 300_000  # two short answers and two judge replies from the embedded model on 2 busy cores


def test_blind_live_demo_vote_reveals_the_names_and_updates_the_leaderboard(tmp_path):
    db = tmp_path / "app.duckdb"
    seed(db)
    with serve(db, tmp_path) as url, browser_page() as page:
        page.goto(f"{url}/compare")
        idle(page)
        page.get_by_role("heading", name="Compare").wait_for()
        page.get_by_text("No votes yet").wait_for()
        page.get_by_label("Rules to judge, one per line (optional)").fill("Answer in English.")
        page.get_by_label("Max tokens per answer").fill("24")
        page.get_by_role("button", name="Run").click()
        page.get_by_text("Which answer is better?").wait_for(timeout=ANSWER_TIMEOUT_MS)
        idle(page)
        for side in ("Model A", "Model B"):
            assert page.get_by_role("heading", name=side, exact=True).is_visible()
        assert page.get_by_text("local · t=0.9").count() == 0, "blind mode showed a name before the vote"
        chips = page.get_by_text(re.compile(r"^(pass|fail|unknown) · Answer in English\.$"))
        assert chips.count() == 2, "no verdict chip on each answer"
        assert page.get_by_test_id("stException").count() == 0
        page.get_by_role("button", name="A", exact=True).click()
        page.get_by_text("Vote recorded").wait_for(timeout=30_000)
        idle(page)
        revealed = page.get_by_role("heading", name="local · t=0.9")
        assert revealed.count() == 1, "the names were not revealed after the vote"
        chart = page.get_by_test_id("stPlotlyChart").first
        chart.locator(".ytick text").first.wait_for()
        ticks = chart.locator(".ytick text").evaluate_all("ticks => ticks.map(t => t.textContent)")
        assert sorted(ticks) == ["local · t=0", "local · t=0.9"], ticks
        assert page.get_by_text("No votes yet").count() == 0
    with Store(str(db)) as store:
        (vote,) = store.votes(None, "human")
    assert vote["blind"] is True and vote["winner"] == "a"
    assert {vote["model_a"], vote["model_b"]} == {"local · t=0", "local · t=0.9"}
