"""The browser harness every chromium test shares: an app server on a free port, and a page."""

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port, stop, wait_for_port

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"{CHROMIUM} missing: install Debian's chromium (apt-get install chromium)",
)


@contextlib.contextmanager
def serve(db: Path, tmp_path: Path, *options: str, **env):
    """`streamlit run app.py` over the store at `db` on a free loopback port; yields its URL.

    `options` are more `streamlit run` options (such as `--secrets.files`); `env` more variables."""
    port = free_port()
    env = dict(os.environ, RNR_DB=str(db), RNR_HOME=str(tmp_path / "home"), **env)
    args = ["streamlit", "run", "app.py", "--server.port", str(port), "--server.address", "127.0.0.1"]
    with listening(
        tmp_path / f"streamlit-{port}.log", port, *args, "--server.headless", "true", *options, env=env
    ):
        yield f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def listening(log_path: Path, port: int, *args: str, env: dict | None = None):
    """`python -m <args>` from the project root, its output in `log_path`, until it listens on `port`;
    stopped on exit."""
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            wait_for_port(port, proc)
            yield proc
        finally:
            stop(proc)


@contextlib.contextmanager
def browser_page(width: int = 1400, height: int = 1000):
    """A page in headless Debian chromium that records (and dismisses) any dialog."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        pg = browser.new_page(viewport={"width": width, "height": height})
        pg.dialogs = []
        pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
        pg.set_default_timeout(30_000)
        try:
            yield pg
        finally:
            browser.close()


def idle(page) -> None:
    """Wait until the app's script run has finished (what Streamlit's own e2e tests wait for)."""
    page.wait_for_selector(IDLE, timeout=60_000)
