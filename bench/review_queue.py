"""Time the review queue on a synthetic store: p50/p95 of each filter's page, count and neighbours.

    PYTHONPATH=. python bench/review_queue.py [--n 1000000] [--db /tmp/review-bench.duckdb] [--repeat 30]

The store is built once (about a minute for a million samples) and reused while its size matches.
"""

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import app_store  # noqa: E402

from rnr_core.review import QueueFilter  # noqa: E402
from rnr_core.store import Store  # noqa: E402

FILTERS = {
    "none": QueueFilter(),
    "status=rejected": QueueFilter(status="rejected"),
    "dataset=bench-ultrachat": QueueFilter(dataset="bench-ultrachat"),
    "run_id=run-03": QueueFilter(run_id="run-03"),
    "rule_kind=detectable_format:title": QueueFilter(rule_kind="detectable_format:title"),
    "rule_kind=free-form": QueueFilter(rule_kind="free-form"),
    "category=safety": QueueFilter(category="safety"),
    "verdict=any_failed": QueueFilter(verdict="any_failed"),
    "verdict=judge_unsure": QueueFilter(verdict="judge_unsure"),
    "verdict=disagree": QueueFilter(verdict="disagree"),
    "reviewer=ann": QueueFilter(reviewer="ann"),
    "all but search": QueueFilter(
        status="pending",
        dataset="bench-alpaca",
        rule_kind="free-form",
        category="style",
        verdict="any_failed",
    ),
    "search 'quartz'": QueueFilter(search="quartz"),
    "search (no match)": QueueFilter(search="no such words"),
    "search '100% sure' (rare, escaped)": QueueFilter(search="100% sure"),
    "search 'saffron_lantern' (escaped)": QueueFilter(search="saffron_lantern"),
    "search + status": QueueFilter(search="harbour", status="accepted"),
}


def timed(fn, repeat: int) -> tuple[float, float]:
    """p50 and p95 wall time of fn() in ms."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, round(0.95 * len(times)) - 1)]


def open_store(path: str, n: int) -> Store:
    if Path(path).exists():
        store = Store(path)
        if store._scalar("SELECT count(*) FROM samples") == n:
            return store
        store.close()
        Path(path).unlink()
    start = time.perf_counter()
    app_store.seed(path, n, 5)
    store = Store(path)
    print(f"built {n:,} samples in {time.perf_counter() - start:.0f} s")
    return store


def writes(path: str, n: int, repeat: int) -> None:
    """Time the review writes on a copy of the store: one accept, one edit, a bulk review."""
    copy = path + ".writes"
    shutil.copyfile(path, copy)
    store = Store(copy)
    ids = iter(range(n // 3, n))
    accept = timed(lambda: store.review([next(ids)], "accept", "ann"), repeat)
    print(f"review one sample: p50 {accept[0]:.1f} ms, p95 {accept[1]:.1f} ms")

    def edit():
        sid = next(ids)
        store.save_edit(sid, store.review_sample(sid)["version"], "ann", response="An edited reply.")

    edited = timed(edit, repeat)
    print(f"save_edit (with its read of the version): p50 {edited[0]:.1f} ms, p95 {edited[1]:.1f} ms")
    one = next(ids)
    label = [{"rule_id": "r1", "verdict": "fail"}]
    verdicts = timed(lambda: store.add_verdicts(one, "human:ann", label), repeat)
    print(f"add_verdicts with its flag refresh: p50 {verdicts[0]:.1f} ms, p95 {verdicts[1]:.1f} ms")
    for flt in (QueueFilter(status="rejected", dataset="bench-alpaca"), QueueFilter(status="pending")):
        start = time.perf_counter()
        count = store.review_filter(flt, "accept", "bob")
        print(f"review_filter {flt}: {count:,} samples in {time.perf_counter() - start:.2f} s")
    store.close()
    Path(copy).unlink()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--db", default="/tmp/review-bench.duckdb")
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--writes", action="store_true", help="also time review writes (on a copy)")
    args = ap.parse_args()
    store = open_store(args.db, args.n)
    mid = args.n // 2
    print(
        f"{'filter':34} {'matches':>9} | page p50/p95 | mid page p95 | prev page p95 | count p95 | nbrs p95"
    )
    for name, flt in FILTERS.items():
        repeat = args.repeat if "search" not in name else max(5, args.repeat // 3)
        page = timed(lambda f=flt: store.queue(f, limit=20), repeat)
        after = timed(lambda f=flt: store.queue(f, after_id=mid, limit=20), repeat)
        before = timed(lambda f=flt: store.queue(f, before_id=mid, limit=20), repeat)
        count = timed(lambda f=flt: store.queue_count(f), repeat)
        nbrs = timed(lambda f=flt: store.neighbours(f, mid), repeat)
        print(
            f"{name:34} {store.queue_count(flt):>9,} | {page[0]:5.1f}/{page[1]:6.1f} | {after[1]:12.1f} |"
            f" {before[1]:13.1f} | {count[1]:9.1f} | {nbrs[1]:8.1f}"
        )
    store.close()
    if args.writes:
        writes(args.db, args.n, args.repeat)


if __name__ == "__main__":
    main()
