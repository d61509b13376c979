"""Two reviewers, each logged in as themselves through a real OpenID Connect provider, edit the same
sample at the same moment on one team-mode server: both versions are kept, each under its author."""

import contextlib
import re

from rnr_core.store import Store
from tests.app_data import seed
from tests.browser import CHROMIUM, idle, needs_chromium
from tests.oidc import login, team_app

pytestmark = needs_chromium

PEOPLE = ("ann@example.com", "bob@example.com")


@contextlib.contextmanager
def pages(count: int):
    """`count` pages in headless chromium, each in its own context: a login cookie each."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        opened = [
            browser.new_context(viewport={"width": 1400, "height": 1000}).new_page() for _ in range(count)
        ]
        for page in opened:
            page.set_default_timeout(30_000)
        try:
            yield opened
        finally:
            browser.close()


def open_editor(page, app, email: str, sample_id: int) -> None:
    """Log in, open the first sample in the editor and type an answer, not yet saved."""
    login(page, app, email, path="review")
    page.get_by_text(f"Sample {sample_id} ·").first.wait_for()
    page.get_by_text("Edit", exact=True).click()
    idle(page)
    page.get_by_label("Response").fill(f"The answer {email} gives.")
    page.get_by_role("heading", name="Review").click()  # leaving the field keeps what was typed
    idle(page)


def test_two_reviewers_saving_one_sample_at_once_keep_both_versions(tmp_path):
    db = tmp_path / "app.duckdb"
    sid = seed(db)["disputed"]  # the first sample of the queue
    roles = {email: "reviewer" for email in PEOPLE}
    with team_app(db, tmp_path, roles) as app, pages(len(PEOPLE)) as opened:
        by = dict(zip(PEOPLE, opened))
        for email, page in by.items():
            open_editor(page, app, email, sid)
        for page in opened:  # both saves sent before either is answered
            page.get_by_role("button", name="Save edit").click(no_wait_after=True)
        answered = re.compile(f"Another reviewer saved sample {sid} first|Saved sample {sid}: what changed")
        for page in opened:  # a loaded machine may not have started the save's run yet: wait for its answer
            page.get_by_text(answered).first.wait_for(timeout=120_000)
            idle(page)
        told = {
            email: page.get_by_text(re.compile("Another reviewer saved sample")).count() > 0
            for email, page in by.items()
        }
        texts = " ".join(page.inner_text("body") for page in opened)
    assert sorted(told.values()) == [False, True], told  # exactly one was told the other saved first
    assert "Conflict on" not in texts and "Traceback" not in texts
    loser = next(email for email, was in told.items() if was)
    winner = next(email for email in PEOPLE if email != loser)
    with Store(str(db)) as store:
        edits = [(r["author"], r["action"], r["applied"], r["response"]) for r in store.revisions(sid)[1:]]
        assert edits == [
            (winner, "edit", True, f"The answer {winner} gives."),
            (loser, "conflict", False, f"The answer {loser} gives."),
        ]
        assert store.review_sample(sid)["response"] == f"The answer {winner} gives."
        actions = store._rows(
            "SELECT reviewer, action FROM review_actions WHERE sample_id = ? ORDER BY id", [sid]
        )
        assert actions == [{"reviewer": winner, "action": "edit"}, {"reviewer": loser, "action": "conflict"}]
