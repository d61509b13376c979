"""The app in headless chromium over a big store: Home's charts, Review's first render, accept-and-next.

Build the store once with `bench/bench_app.py --db PATH`, then pass the same `--db PATH` here.
Accepting changes samples in that store; it is a scratch store.
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import loadavg

ROOT = Path(__file__).resolve().parent.parent
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
# The Review page's header: "**Sample N** · status"; its text changes when the next sample shows.
HEADER_JS = """prev => {
  const e = [...document.querySelectorAll('strong')].find(s => /^Sample \\d+$/.test(s.textContent));
  return e && e.textContent !== prev ? e.textContent : null;
}"""
TARGETS = {"home_s": 2.0, "review_first_render_s": 2.0, "accept_next_p95_ms": 300.0}
# home_first_visit_s has no target: most of it is the server's first script run (imports) and
# chromium loading Streamlit's and plotly's scripts, whatever the store; bench_home_cold.py times
# the store's share of it (the first dashboard) against 2 s.


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(db: str, port: int) -> subprocess.Popen:
    env = dict(os.environ, RNR_DB=db)
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("the app did not start within 60 s")


def header(page, prev: str | None = None, timeout: float = 30_000) -> str:
    return page.wait_for_function(HEADER_JS, arg=prev, timeout=timeout).json_value()


def measure(url: str, repeat: int) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        start = time.perf_counter()
        page.goto(url)  # the first visit: the app's imports, opening the store, a cold Home
        page.locator(".js-plotly-plot").nth(3).wait_for(timeout=120_000)
        page.wait_for_selector(IDLE, timeout=120_000)
        first_visit = time.perf_counter() - start
        start = time.perf_counter()
        page.goto(url)
        page.locator(".js-plotly-plot").nth(3).wait_for(timeout=60_000)
        page.wait_for_selector(IDLE)
        home = time.perf_counter() - start
        start = time.perf_counter()
        page.goto(f"{url}/review")
        current = header(page)
        page.wait_for_selector(IDLE)
        first = time.perf_counter() - start
        steps = []
        for _ in range(repeat):
            page.get_by_role("heading", name="Review").click()  # focus off any text field
            start = time.perf_counter()
            page.keyboard.press("a")
            current = header(page, current)
            steps.append((time.perf_counter() - start) * 1000)
            page.wait_for_selector(IDLE)
        browser.close()
    return {
        "home_first_visit_s": first_visit,
        "home_s": home,
        "review_first_render_s": first,
        "accept_next_p50_ms": statistics.median(steps),
        "accept_next_p95_ms": sorted(steps)[max(0, round(0.95 * len(steps)) - 1)],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a store built by bench_app.py --db PATH")
    parser.add_argument("--repeat", type=int, default=20, help="accept-and-next steps to time")
    args = parser.parse_args()
    if not Path(args.db).is_file():
        raise SystemExit(f"{args.db} does not exist: build it with bench/bench_app.py --db {args.db}")
    print(f"loadavg_start: {loadavg()}")
    port = free_port()
    app = start_app(args.db, port)
    try:
        figures = measure(f"http://127.0.0.1:{port}", args.repeat)
    finally:
        app.terminate()
        app.wait(timeout=30)
    for name, value in figures.items():
        print(f"{name}: {value:.3f}")
    print(f"loadavg_end: {loadavg()}")
    for name, target in TARGETS.items():
        print(f"RESULT {name}={figures[name]:.3f} target<={target} ok={str(figures[name] <= target).lower()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
