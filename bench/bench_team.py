"""A team at once: N chromium sessions, each a different logged-in reviewer, doing accept-and-next on
one app process over a big store; p50 and p95 per step, next to one session alone.

By default the app runs in team mode behind a real OpenID Connect provider (tests/oidc.py) and each
session logs in as its own e-mail; `--personal` runs it in personal mode, each session typing its own
name into the sidebar's Reviewer field. Every session starts where a reviewer opening the Review page
does (the top of the default queue), so they accept the same samples at nearly the same moments: the
hardest case for write conflicts. Afterwards it checks that nothing was lost or doubled (each reviewer
has exactly one review action per step, and every accepted sample's status and reviewer are those of its
last action) and that no page ever showed DuckDB's conflict message or a traceback.

The store is built once (app_store.py; about 90 s for a million samples on 2 cores) at --db, or reused;
accepting changes it, so it is a scratch store. The full run:

    python bench/bench_team.py --db /tmp/team-1m.duckdb --samples 1000000 --sessions 8 --steps 25
"""

import argparse
import contextlib
import os
import secrets
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import app_store  # noqa: E402
from common import loadavg  # noqa: E402

from rnr_core.store import Store  # noqa: E402
from tests.browser import CHROMIUM, IDLE, serve  # noqa: E402

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
# The Review page's header "**Sample N**": its text changes when the next sample shows.
HEADER_JS = """prev => {
  const e = [...document.querySelectorAll('strong')].find(s => /^Sample \\d+$/.test(s.textContent));
  return e && e.textContent !== prev ? e.textContent : null;
}"""
# What a page must never show: DuckDB's own conflict messages, or a traceback.
FORBIDDEN = ("Conflict on", "TransactionContext", "TransactionException", "ConstraintException", "Traceback")
REFUSED = "Another reviewer or job was changing"  # the store's version conflict, in the app's words
STEP_TIMEOUT_MS = 60_000
DOMAIN = "team.example"


class Session:
    """One reviewer's browser: its name, each step's time, and what its pages showed."""

    def __init__(self, name: str):
        self.name, self.steps, self.refused, self.forbidden, self.error = name, [], 0, [], None


def login_personal(page, url: str, name: str) -> None:
    page.goto(f"{url}/review")
    page.wait_for_selector(IDLE, timeout=120_000)  # a fresh server's first run imports everything
    field = page.get_by_role("textbox", name="Reviewer")
    field.fill(name)
    field.press("Enter")
    page.wait_for_selector(IDLE)


def scan(page, session: Session) -> None:
    """Note anything forbidden the page shows, and a refused accept."""
    text = page.inner_text("body")
    session.forbidden += [word for word in FORBIDDEN if word in text]
    session.refused += REFUSED in text


def shown(page) -> str:
    """Where a page is and the start of its text, to say where a session failed."""
    try:
        return f"at {page.url}: " + " ".join(page.inner_text("body", timeout=5000).split())[:300]
    except Exception as exc:  # noqa: BLE001 - the page may be gone; the failure is reported anyway
        return f"page unreadable: {type(exc).__name__}"


def run_session(session: Session, login, steps: int, ready: threading.Barrier) -> None:
    """Log in, wait for every other session, then accept-and-next `steps` times, timing each."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.set_default_timeout(STEP_TIMEOUT_MS)
        try:
            login(page, session.name)
            current = page.wait_for_function(HEADER_JS, arg=None).json_value()
            ready.wait()
            for _ in range(steps):
                page.get_by_role("heading", name="Review").click()  # focus off any text field
                start = time.perf_counter()
                page.keyboard.press("a")
                current = page.wait_for_function(HEADER_JS, arg=current).json_value()
                session.steps.append((time.perf_counter() - start) * 1000)
                page.wait_for_selector(IDLE)
                scan(page, session)
        except Exception as exc:  # noqa: BLE001 - reported with the figures, the other sessions go on
            session.error = f"{type(exc).__name__}: {exc} ({shown(page)})"
            ready.abort()
        finally:
            browser.close()


def run_round(names: list[str], login, steps: int) -> list[Session]:
    sessions = [Session(name) for name in names]
    ready = threading.Barrier(len(sessions))
    threads = [threading.Thread(target=run_session, args=(s, login, steps, ready)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sessions


def server_cpu_s() -> float:
    """CPU seconds the app's server process has used so far (it is this script's `streamlit run` child)."""
    import psutil

    for proc in psutil.Process().children(recursive=True):
        if "streamlit" in " ".join(proc.cmdline()):
            times = proc.cpu_times()
            return times.user + times.system
    return float("nan")


def timed_round(names: list[str], login, steps: int) -> tuple[list[Session], float]:
    """A round, and the app server's CPU milliseconds per step in it (the rest of a step's time is the
    browsers' and the machine's: 8 chromiums share 2 cores with the server here)."""
    before = server_cpu_s()
    sessions = run_round(names, login, steps)
    done = sum(len(s.steps) for s in sessions) or 1
    return sessions, (server_cpu_s() - before) * 1000 / done


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(q * len(ordered)) - 1)] if ordered else float("nan")


def report(label: str, sessions: list[Session], server_ms: float) -> None:
    steps = [ms for s in sessions for ms in s.steps]
    print(
        f"{label}: {len(sessions)} session(s), {len(steps)} steps, "
        f"p50 {percentile(steps, 0.5):.0f} ms, p95 {percentile(steps, 0.95):.0f} ms, "
        f"app server CPU {server_ms:.0f} ms per step (login included)"
    )
    for s in sessions:
        if s.error:
            print(f"  {s.name}: FAILED after {len(s.steps)} steps: {s.error}")


def check(db: str, sessions: list[Session], steps: int) -> bool:
    """Each reviewer's actions recorded exactly once; accepted samples agree with their last action."""
    names = [s.name for s in sessions]
    ok = True
    with Store(db) as store:
        counts = dict(
            store.con.execute(
                "SELECT reviewer, count(*) FROM review_actions WHERE list_contains(?, reviewer) GROUP BY ALL",
                [names],
            ).fetchall()
        )
        for s in sessions:
            want = len(s.steps) - s.refused
            if counts.get(s.name, 0) != want or len(s.steps) != steps:
                ok = False
                print(
                    f"  {s.name}: {counts.get(s.name, 0)} review actions for {len(s.steps)} of {steps} steps"
                )
        wrong = store._scalar(
            "WITH last AS (SELECT sample_id, arg_max(reviewer, id) AS reviewer, "
            "arg_max(action, id) AS action FROM review_actions WHERE sample_id IN "
            "(SELECT sample_id FROM review_actions WHERE list_contains(?, reviewer)) GROUP BY sample_id) "
            "SELECT count(*) FROM last JOIN samples s ON s.id = last.sample_id WHERE last.action = 'accept' "
            "AND (s.status <> 'accepted' OR s.reviewer IS DISTINCT FROM last.reviewer)",
            [names],
        )
    forbidden = sorted({w for s in sessions for w in s.forbidden})
    refused = sum(s.refused for s in sessions)
    print(f"  samples whose status or reviewer disagree with their last action: {wrong}")
    print(f"  pages showing DuckDB's conflict message or a traceback: {forbidden or 'none'}")
    print(f"  accepts refused as a version conflict (said in the app's words): {refused}")
    return ok and not wrong and not forbidden


@contextlib.contextmanager
def app_with_logins(args, tmp: Path):
    """The app over the store; yields how a page logs in as a name: team mode (OIDC) or personal."""
    if args.personal:
        with serve(Path(args.db), tmp) as url:
            yield lambda page, name: login_personal(page, url, name)
        return
    from tests.oidc import login, team_app

    with team_app(Path(args.db), tmp, {f"@{DOMAIN}": "reviewer"}) as app:
        yield lambda page, email: login(page, app, email, path="review")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="the store; built with --samples samples if missing")
    parser.add_argument("--samples", type=int, default=1_000_000, help="samples of a store built here")
    parser.add_argument("--sessions", type=int, default=8, help="reviewers at once")
    parser.add_argument("--steps", type=int, default=25, help="accept-and-next steps per reviewer")
    parser.add_argument("--personal", action="store_true", help="personal mode: names typed in the sidebar")
    args = parser.parse_args()
    if not Path(args.db).is_file():
        start = time.perf_counter()
        app_store.seed(args.db, args.samples, 5)
        print(f"built {args.db}: {args.samples:,} samples in {time.perf_counter() - start:.0f} s")
    print(f"store: {app_store.sample_count(args.db):,} samples; cpus: {os.cpu_count()}")
    print(f"mode: {'personal' if args.personal else 'team (OIDC login)'}; loadavg_start: {loadavg()}")
    tag = secrets.token_hex(3)
    name = (lambda i: f"r{i}-{tag}") if args.personal else (lambda i: f"r{i}-{tag}@{DOMAIN}")
    with tempfile.TemporaryDirectory() as tmp, app_with_logins(args, Path(tmp)) as log_in:
        alone, alone_cpu = timed_round([name(0)], log_in, args.steps)
        team, team_cpu = timed_round([name(i) for i in range(1, args.sessions + 1)], log_in, args.steps)
    report("alone", alone, alone_cpu)
    report("together", team, team_cpu)
    print(f"loadavg_end: {loadavg()}")
    ok = check(args.db, alone + team, args.steps)
    print(f"RESULT every_action_once_no_conflict_shown ok={str(ok).lower()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
