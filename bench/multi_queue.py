"""Time the per-reviewer queues with several labels per item on a synthetic store: p50/p95 in ms.

    PYTHONPATH=. python bench/multi_queue.py [--n 1000000] [--db /tmp/review-bench.duckdb] [--repeat 30]

Builds (or reuses) bench/review_queue.py's store, copies it, and gives the copy decisions as a team
would leave them: every reviewed sample decided by its reviewer, a second person ('cy') on a tenth of
them (disagreeing on a tenth of those), and a second audit label on a quarter of the labelled rules.
It then asks for two labels per item of review and audit, and times each reviewer's queue, a review
at N = 2, the adjudicator's lists and people's agreement.
"""

import argparse
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from review_queue import open_store, timed  # noqa: E402

from rnr_core.audit import human_agreement_report  # noqa: E402
from rnr_core.review import QueueFilter  # noqa: E402
from rnr_core.store import Store  # noqa: E402

TEAM = [
    # Each reviewed sample counts as its reviewer's decision (what migration 10 does to an older store).
    "INSERT INTO review_decisions (sample_id, reviewer, adjudicates, decision, reason, created_at) "
    "SELECT id, reviewer, false, CASE status WHEN 'accepted' THEN 'accept' ELSE 'reject' END, reject_reason, "
    "reviewed_at FROM samples WHERE reviewer IS NOT NULL",
    # cy decided a tenth of them too, disagreeing on a tenth of those.
    "INSERT INTO review_decisions (sample_id, reviewer, adjudicates, decision, reason, created_at) "
    "SELECT id, 'cy', false, CASE WHEN id % 100 = 0 THEN 'reject' ELSE 'accept' END, "
    "CASE WHEN id % 100 = 0 THEN 'other' END, reviewed_at + INTERVAL 1 HOUR "
    "FROM samples WHERE reviewer IS NOT NULL AND id % 10 = 0",
    "UPDATE samples SET decisions = d.n, disputed = d.kinds > 1, "
    "status = CASE WHEN d.kinds > 1 THEN 'pending' ELSE status END FROM ("
    "SELECT sample_id, count(*) AS n, count(DISTINCT decision) AS kinds FROM review_decisions "
    "GROUP BY ALL) d "
    "WHERE samples.id = d.sample_id",
    # A second person's audit label on a quarter of the labelled rules, disagreeing on a fifth of those.
    "INSERT INTO verdicts (sample_id, rule_id, judge, verdict, created_at, stale) "
    "SELECT sample_id, rule_id, 'human:bob', CASE WHEN sample_id % 5 = 0 THEN "
    "(CASE verdict WHEN 'pass' THEN 'fail' ELSE 'pass' END) ELSE verdict END, created_at, stale "
    "FROM verdicts WHERE judge = 'human:ann' AND sample_id % 4 = 0",
]


def team_store(path: str, n: int) -> Store:
    copy = path + ".multi"
    shutil.copyfile(path, copy)
    store = Store(copy)
    start = time.perf_counter()
    with store.transaction():
        for sql in TEAM:
            store.con.execute(sql)
    store.reindex()
    print(f"gave {n:,} samples a team's decisions in {time.perf_counter() - start:.0f} s")
    return store


def row(name: str, figures: tuple[float, float]) -> None:
    print(f"{name:52} p50 {figures[0]:7.1f} ms   p95 {figures[1]:7.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--db", default="/tmp/review-bench.duckdb")
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args()
    open_store(args.db, args.n).close()
    store = team_store(args.db, args.n)
    mid, r = args.n // 2, args.repeat
    ids = iter(range(mid, args.n))
    shared = QueueFilter()
    print("one label per item (the baseline, same store):")
    row("shared queue page", timed(lambda: store.queue(shared, limit=20), r))
    row("shared queue count", timed(lambda: store.queue_count(shared), r))
    row("shared queue neighbours", timed(lambda: store.neighbours(shared, mid), r))
    accept = lambda: store.review([next(ids)], "accept", "dan")  # noqa: E731
    row("review one sample (dan accepts, N = 1)", timed(accept, r))
    row("audit queue page (N = 1)", timed(lambda: store.audit_queue(limit=20, reviewer="bob"), r))
    for task in ("review", "audit"):
        start = time.perf_counter()
        store.set_labels_per_item(task, 2, "bench")
        print(f"set two labels per item of the {task} in {(time.perf_counter() - start) * 1000:.0f} ms")
    print(f"two labels per item: {store.review_dispute_count():,} disputed samples")
    for who in ("ann", "dan"):
        flt = QueueFilter(open_for=who)
        print(f"  queue open for {who}: {store.queue_count(flt):,} samples")
        row(f"queue page, open for {who}", timed(lambda f=flt: store.queue(f, limit=20), r))
        row(f"queue page after the middle, open for {who}", timed(lambda f=flt: store.queue(f, mid, 20), r))
        row(
            f"queue page before the middle, open for {who}",
            timed(lambda f=flt: store.queue(f, None, 20, mid), r),
        )
        row(f"count, open for {who}", timed(lambda f=flt: store.queue_count(f), r))
        row(f"neighbours, open for {who}", timed(lambda f=flt: store.neighbours(f, mid), r))
    pending = QueueFilter(status="pending", open_for="dan")
    row("queue page, pending and open for dan", timed(lambda: store.queue(pending, limit=20), r))
    row("review one sample (dan accepts, N = 2)", timed(accept, r))
    row("audit queue page for bob (N = 2)", timed(lambda: store.audit_queue(limit=20, reviewer="bob"), r))
    row("audit queue page, no reviewer", timed(lambda: store.audit_queue(limit=20), r))
    row("review disputes (first 50)", timed(lambda: store.review_disputes(50), r))
    print(f"audit: {store.label_dispute_count():,} disputed rules")
    row("label disputes (first 20)", timed(lambda: store.label_disputes(20), r))
    row("label dispute count", timed(store.label_dispute_count, r))
    row("people's agreement report", timed(lambda: human_agreement_report(store), max(3, r // 5)))
    store.close()
    Path(args.db + ".multi").unlink()


if __name__ == "__main__":
    main()
