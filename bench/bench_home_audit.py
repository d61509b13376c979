"""Home aggregates and the judge-audit queue on the shared synthetic store of N samples (app_store.py).

Seeds a fresh DuckDB file with `app_store.seed` (SQL alone, not timed), then times each case
--repeat times with DuckDB held to --threads: `dashboard`, `audit_queue` (first page, one judge, one
category, offset 100; and offset 5000, without a target), `audit_pairs`, `audit_label_counts` and
`agreement_report`. Targets: dashboard p95 <= 2 s; each of those four audit_queue pages p95 <= 200 ms.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import app_store  # noqa: E402
from common import loadavg  # noqa: E402

from rnr_core.audit import agreement_report  # noqa: E402
from rnr_core.home import dashboard  # noqa: E402
from rnr_core.store import Store  # noqa: E402

DASHBOARD_S = 2.0
QUEUE_P95_S = 0.2


def timings(fn, repeat: int) -> list[float]:
    """Sorted wall times of `repeat` calls."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return sorted(times)


def p95(times: list[float]) -> float:
    return times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--k", type=int, default=4, help="samples per system prompt")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2, help="DuckDB threads (the targets are for 2 cores)")
    args = ap.parse_args()
    print(f"loadavg_start: {loadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "bench.duckdb")
        t0 = time.perf_counter()
        app_store.seed(path, args.samples, args.k)
        print(f"seed_s: {time.perf_counter() - t0:.1f}")
        with Store(path) as store:
            store.con.execute(f"SET threads = {args.threads}")
            print(f"verdicts: {store._scalar('SELECT count(*) FROM verdicts')}")
            queue = {
                "queue_first_page": {},
                "queue_judge_checker": {"judge": "checker"},
                "queue_category_safety": {"category": "safety"},
                "queue_offset_100": {"offset": 100},
            }
            cases = {name: (lambda kw=kw: store.audit_queue(**kw)) for name, kw in queue.items()}
            cases |= {
                "queue_offset_5000": lambda: store.audit_queue(offset=5000),  # no target: pages stay shallow
                "dashboard": lambda: dashboard(store),
                "audit_pairs": lambda: store.audit_pairs(),
                "audit_label_counts": lambda: store.audit_label_counts(),
                "agreement_report": lambda: agreement_report(store),
            }
            results = {}
            for name, fn in cases.items():
                times = timings(fn, args.repeat)
                results[name] = p95(times)
                print(f"{name}_s: p50 {times[len(times) // 2]:.3f} p95 {results[name]:.3f}")
    print(f"loadavg_end: {loadavg()}")
    worst_queue = max(results[name] for name in queue)
    ok = results["dashboard"] <= DASHBOARD_S and worst_queue <= QUEUE_P95_S
    print(
        f"RESULT dashboard_p95_s={results['dashboard']:.3f} queue_p95_max_s={worst_queue:.3f} "
        f"target={DASHBOARD_S},{QUEUE_P95_S} ok={str(ok).lower()}"
    )


if __name__ == "__main__":
    main()
