"""The app's core calls on a store of a million samples: export, and queue, search, Home and audit.

Seeds a DuckDB file with --samples synthetic samples in SQL (see app_store.py; about 90 s for a
million on 2 cores), or reuses the one at --db. Then measures:
- export of every sample (all statuses, failing ones too) in a child process: seconds and peak RSS;
  then, traced, its Python heap peak against that of exporting one dataset (a third): streamed, the
  heap must not grow with the size;
- export_preview of the default selection;
- where the core has them: Store.queue p95 over filter combinations, search latency, dashboard()
  and Store.audit_queue; a line says which API is missing otherwise.
"""

import argparse
import dataclasses
import importlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import app_store  # noqa: E402
from common import loadavg  # noqa: E402

from rnr_core.export import export_preview, export_samples  # noqa: E402
from rnr_core.store import Store  # noqa: E402

QUEUE_P95_MS, SEARCH_MS, DASHBOARD_S = 50.0, 500.0, 2.0
# Streamed, the Python heap of exporting everything may exceed that of exporting one dataset (a third)
# by this much. (RSS also holds DuckDB's cache of the table blocks read, which its memory_limit bounds.)
EXPORT_HEAP_SLACK_MB = 16.0
# The leakage check (embedding every instruction once) has its own benchmark, bench_export.py.
ALL = {"statuses": ["pending", "accepted", "rejected"], "include_failing": True, "leakage_threshold": None}
QUEUE_FILTERS = [
    {},
    {"status": "rejected"},
    {"dataset": "bench-ultrachat"},
    {"run_id": "run-03"},
    {"rule_kind": "keywords:existence"},
    {"rule_kind": "free-form"},
    {"category": "safety"},
    {"verdict": "any_failed"},
    {"verdict": "judge_unsure"},
    {"verdict": "disagree"},
    {"reviewer": "ann"},
    {"status": "pending", "dataset": "bench-alpaca", "category": "style", "verdict": "any_failed"},
]
SEARCHES = [
    {"search": "saffron"},
    {"search": "lantern harbour compass"},
    {"search": "no such words"},
    {"search": "zebra", "status": "accepted"},
]


def rss_mb() -> float:
    """This process's peak resident set so far, in MiB.

    /proc's VmHWM first: ru_maxrss survives exec, so a child would inherit the parent's peak (the seeding).
    """
    try:
        status = Path("/proc/self/status").read_text()
        return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child_export(spec: dict) -> None:
    """Run one export in this process and print its figures as JSON (the parent reads them)."""
    if spec["tracemalloc"]:
        tracemalloc.start()
    with Store(spec["db"]) as store:
        base = rss_mb()
        start = time.perf_counter()
        manifest = export_samples(store, spec["out"], **spec["filters"])
        seconds = time.perf_counter() - start
    heap = tracemalloc.get_traced_memory()[1] / 2**20 if spec["tracemalloc"] else None
    samples = sum(manifest["counts"].values())
    print(json.dumps({"seconds": seconds, "samples": samples, "base": base, "peak": rss_mb(), "heap": heap}))


def run_export(db: str, out: Path, filters: dict, trace: bool) -> dict:
    spec = {"db": db, "out": str(out), "filters": filters, "tracemalloc": trace}
    proc = subprocess.run(
        [sys.executable, __file__, "--child-export", json.dumps(spec)], capture_output=True, text=True
    )
    if proc.returncode:
        raise SystemExit(f"export child failed:\n{proc.stderr}")
    return json.loads(proc.stdout.splitlines()[-1])


def measure_export(db: str, tmp: Path, trace: bool) -> bool:
    """Time and RSS of exporting everything; with `trace`, the Python heap of that and of one dataset."""
    full = run_export(db, tmp / "all", ALL, False)
    size = sum(f.stat().st_size for f in (tmp / "all").iterdir()) / 2**20
    print(f"export_all_samples: {full['samples']}")
    print(f"export_all_seconds: {full['seconds']:.1f}")
    print(f"export_all_samples_per_s: {full['samples'] / full['seconds']:.0f}")
    print(f"export_all_files_mb: {size:.0f}")
    print(f"export_all_rss_mb: base {full['base']:.0f}, peak {full['peak']:.0f}")
    if not trace:
        return True
    traced = run_export(db, tmp / "all-traced", ALL, True)  # a fresh folder: exports never replace unasked
    part = run_export(db, tmp / "part", {**ALL, "dataset": "bench-alpaca"}, True)
    growth = traced["heap"] - part["heap"]
    ok = growth <= EXPORT_HEAP_SLACK_MB
    print(f"export_one_dataset_samples: {part['samples']}")
    print(f"export_one_dataset_rss_mb: base {part['base']:.0f}, peak {part['peak']:.0f}")
    print(f"export_python_heap_peak_mb: all {traced['heap']:.1f}, one dataset {part['heap']:.1f}")
    target = f"target<={EXPORT_HEAP_SLACK_MB:.0f} ok={_ok(ok)}"
    print(f"export_heap_growth_over_one_dataset_mb: {growth:.1f} {target}")
    return ok


def timed(fn, repeat: int) -> list[float]:
    """Wall times of fn() in ms, after one untimed call."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def _ok(flag: bool) -> str:
    return str(flag).lower()


def _api(module: str, name: str):
    """rnr_core.<module>.<name>, or None when this checkout has no such thing."""
    try:
        return getattr(importlib.import_module(f"rnr_core.{module}"), name, None)
    except ImportError:
        return None


def _filters(queue_filter, specs: list[dict]) -> list:
    """QueueFilters for the specs whose fields all exist, so a renamed field skips only its combos."""
    known = {f.name for f in dataclasses.fields(queue_filter)}
    return [queue_filter(**spec) for spec in specs if set(spec) <= known]


def measure_preview(store: Store, repeat: int) -> None:
    times = timed(lambda: export_preview(store, leakage_threshold=None), repeat)
    counts = export_preview(store, leakage_threshold=None)
    print(f"preview_default_counts: {counts['counts']} excluded {counts['excluded']}")
    print(f"preview_default_ms: median {statistics.median(times):.0f}, max {max(times):.0f}")


def measure_queue(store: Store, n: int, repeat: int) -> list[bool]:
    queue_filter = _api("review", "QueueFilter")
    if queue_filter is None or not hasattr(store, "queue"):
        print("queue: skipped, rnr_core.review.QueueFilter or Store.queue is missing")
        return []
    times = []
    for flt in _filters(queue_filter, QUEUE_FILTERS):
        times += timed(lambda f=flt: store.queue(f, after_id=None, limit=20), repeat)
        times += timed(lambda f=flt: store.queue(f, after_id=n // 2, limit=20), repeat)
    ok_queue = p95(times) <= QUEUE_P95_MS
    print(f"queue_pages_timed: {len(times)}")
    print(f"queue_p95_ms: {p95(times):.1f} target<={QUEUE_P95_MS:.0f} ok={_ok(ok_queue)}")
    worst = []
    for flt in _filters(queue_filter, SEARCHES):
        worst.append(max(timed(lambda f=flt: store.queue(f, after_id=None, limit=20), max(3, repeat // 3))))
    ok_search = max(worst) <= SEARCH_MS
    print(f"search_ms: {', '.join(f'{t:.0f}' for t in worst)}")
    print(f"search_max_ms: {max(worst):.0f} target<={SEARCH_MS:.0f} ok={_ok(ok_search)}")
    return [ok_queue, ok_search]


def measure_home_and_audit(store: Store, repeat: int) -> list[bool]:
    oks = []
    dashboard = _api("home", "dashboard")
    if dashboard is None:
        print("dashboard: skipped, rnr_core.home.dashboard is missing")
    else:
        times = timed(lambda: dashboard(store), max(1, repeat // 10))
        oks.append(max(times) / 1000 <= DASHBOARD_S)
        print(f"dashboard_s: {max(times) / 1000:.2f} target<={DASHBOARD_S:.0f} ok={_ok(oks[-1])}")
    if not hasattr(store, "audit_queue"):
        print("audit_queue: skipped, Store.audit_queue is missing")
    else:
        first = timed(lambda: store.audit_queue(limit=20), max(3, repeat // 5))
        category = timed(lambda: store.audit_queue(category="safety", limit=20), max(3, repeat // 5))
        print(f"audit_queue_ms: first page {max(first):.0f}, category safety {max(category):.0f}")
    return oks


def open_store(path: str, n: int, k: int) -> None:
    """Reuse the store at `path` when it holds n samples, else (re)build it."""
    if Path(path).exists():
        if app_store.sample_count(path) == n:
            print(f"store: reused {path}")
            return
        Path(path).unlink()
        Path(path + ".wal").unlink(missing_ok=True)
    start = time.perf_counter()
    app_store.seed(path, n, k)
    print(f"store: built {path} in {time.perf_counter() - start:.0f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--k", type=int, default=5, help="samples per system prompt")
    parser.add_argument("--db", help="store file to build once and reuse (default: a temp dir)")
    parser.add_argument("--repeat", type=int, default=20, help="timed calls per queue filter")
    parser.add_argument(
        "--no-trace", action="store_true", help="skip the traced exports (Python heap; 4x slower)"
    )
    parser.add_argument("--child-export", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_export:
        child_export(json.loads(args.child_export))
        return 0

    print(f"cpu_count: {os.cpu_count()}")
    print(f"loadavg_start: {loadavg()}")
    with tempfile.TemporaryDirectory(prefix="rnr-bench-app-") as tmp:
        db = args.db or str(Path(tmp) / "app.duckdb")
        open_store(db, args.samples, args.k)
        oks = [measure_export(db, Path(tmp), not args.no_trace)]
        with Store(db) as store:
            store.con.execute("SET enable_progress_bar = false")
            measure_preview(store, max(1, args.repeat // 10))
            oks += measure_queue(store, args.samples, args.repeat)
            oks += measure_home_and_audit(store, args.repeat)
    print(f"loadavg_end: {loadavg()}")
    print(f"RESULT app_targets_met={sum(oks)}/{len(oks)} ok={_ok(all(oks))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
