"""Home aggregates and the judge-audit queue on a synthetic store of N samples built with SQL alone.

Seeds a fresh DuckDB file (not timed): runs of every status, system prompts of 4 rules (a third
free-form), 4 samples per prompt spread over 30 days, one in a hundred with edited rules, checker
verdicts on verifiable rules and an LLM judge on free-form ones (plus, on one sample in a hundred,
on verifiable ones too, so the two can disagree), 2% unsure LLM verdicts, stale verdicts on edited
samples and a few thousand human labels. Then times, best of --repeat: `dashboard`, the first and a
deep page of `audit_queue` (all, one judge, one category), `audit_pairs` and `agreement_report`.
Target: dashboard <= 2 s.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from common import loadavg  # noqa: E402

from rnr_core.audit import agreement_report  # noqa: E402
from rnr_core.home import dashboard  # noqa: E402
from rnr_core.rules import CATEGORIES, KINDS  # noqa: E402
from rnr_core.store import Store  # noqa: E402

TARGET_S = 2.0
RUNS = 20
RUN_STATUSES = ("done", "done", "done", "failed", "cancelled", "running")
REASONS = ("rule_broken", "wrong_role", "unsafe", "low_quality", "duplicate", "other")


def _list(values) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def seed(store: Store, n: int) -> None:
    """Fill an empty store with n samples; every value derives from row numbers, so seeds repeat."""
    for sql in _statements(n, max(1, n // 4)):
        store.con.execute(sql)


def _statements(n: int, prompts: int) -> list[str]:
    kinds, cats = _list(sorted(KINDS)), _list(CATEGORIES)
    return [
        "INSERT INTO datasets (id, name) VALUES (1, 'alpaca')",
        f"""INSERT INTO runs (id, dataset_id, model, config, status, created_at)
            SELECT printf('run-%02d', i), 1, 'm', '{{}}', {_list(RUN_STATUSES)}[1 + i % {len(RUN_STATUSES)}],
              TIMESTAMP '2026-01-01' + INTERVAL (i * 36) HOUR FROM range({RUNS}) t(i)""",
        f"""CREATE TEMP TABLE bench_rules AS SELECT p, j,
            CASE WHEN hash(p, j, 'k') % 3 = 0 THEN NULL
              ELSE {kinds}[1 + (hash(p, j) % {len(KINDS)})::BIGINT] END AS kind,
            {cats}[1 + (hash(p, j, 'c') % {len(CATEGORIES)})::BIGINT] AS category
            FROM range(1, {prompts + 1}) a(p), range(1, 5) b(j)""",
        f"""INSERT INTO system_prompts (id, run_id, group_idx, role, rules, text, model, template)
            SELECT p, printf('run-%02d', p % {RUNS}), p, 'You are helper ' || p || '.',
              '[' || string_agg('{{"id": "r' || j || '", "text": "Rule ' || j || ' of prompt ' || p
                || '.", "category": "' || category || '", "kind": '
                || coalesce('"' || kind || '"', 'null') || ', "kwargs": '
                || CASE WHEN kind IS NULL THEN 'null' ELSE '{{}}' END || '}}', ', ' ORDER BY j)
                || ']', 'You are helper ' || p || '.', 'm', 'system_prompt.v1'
            FROM bench_rules GROUP BY p""",
        f"""INSERT INTO samples (id, run_id, item_key, system_prompt_id, instruction_id, kind, messages,
              response, status, model, template, params, seed, reject_reason, created_at)
            SELECT i, printf('run-%02d', p % {RUNS}), 'k' || i, p, i, 'plain',
              '[{{"role": "user", "content": "Question ' || i || '"}}]', 'Answer ' || i,
              CASE WHEN hash(i, 's') % 10 < 6 THEN 'pending' WHEN hash(i, 's') % 10 < 9 THEN 'accepted'
                ELSE 'rejected' END, 'm', CASE WHEN p % 2 = 0 THEN 'response.v1' ELSE 'response.v2' END,
              '{{}}', i, CASE WHEN hash(i, 's') % 10 = 9 THEN {_list(REASONS)}[1 + (i % 6)::BIGINT] END,
              TIMESTAMP '2026-01-01' + INTERVAL (hash(i, 't') % (30 * 86400)) SECOND
            FROM (SELECT i, 1 + (i - 1) // 4 AS p FROM range(1, {n + 1}) t(i))""",
        """INSERT INTO run_items (run_id, item_key, stage, status, attempts)
            SELECT run_id, item_key, 'response', CASE WHEN id % 50 = 0 THEN 'failed' ELSE 'done' END, 1
            FROM samples""",
        # One sample in a hundred carries edited rules: its prompt's rules under other category names.
        """UPDATE samples s SET edited_rules = replace(p.rules, '"category": "', '"category": "edited-'),
              version = 2 FROM system_prompts p WHERE s.id % 100 = 7 AND p.id = s.system_prompt_id""",
        """INSERT INTO verdicts (sample_id, rule_id, judge, verdict, stale)
            SELECT s.id, 'r' || r.j, CASE WHEN r.kind IS NULL THEN 'llm:m' ELSE 'checker' END,
              CASE WHEN hash(s.id, r.j) % 5 = 0 THEN 'fail'
                WHEN r.kind IS NULL AND hash(s.id, r.j) % 50 = 1 THEN 'unknown' ELSE 'pass' END,
              s.edited_rules IS NOT NULL
            FROM samples s JOIN bench_rules r ON r.p = s.system_prompt_id""",
        """INSERT INTO verdicts (sample_id, rule_id, judge, verdict)
            SELECT s.id, 'r' || r.j, 'llm:m',
              CASE WHEN hash(s.id, r.j, 'x') % 4 = 0 THEN 'fail' ELSE 'pass' END
            FROM samples s JOIN bench_rules r ON r.p = s.system_prompt_id
            WHERE s.id % 100 = 3 AND r.kind IS NOT NULL""",
        # Human labels on one (sample, rule) in 500, agreeing with the machine four times in five.
        """INSERT INTO verdicts (sample_id, rule_id, judge, verdict)
            SELECT sample_id, rule_id, 'human:ann', CASE WHEN hash(sample_id, rule_id, 'h') % 5 = 0
              THEN (CASE WHEN verdict = 'pass' THEN 'fail' ELSE 'pass' END) ELSE verdict END
            FROM verdicts WHERE hash(sample_id, rule_id, 'l') % 500 = 0 AND judge IN ('checker', 'llm:m')
              AND verdict <> 'unknown' AND NOT stale
            QUALIFY row_number() OVER (PARTITION BY sample_id, rule_id) = 1""",
        "DROP TABLE bench_rules",
        "CHECKPOINT",
    ]


def best(fn, repeat: int) -> tuple[float, object]:
    """Best wall time of `repeat` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2, help="DuckDB threads (the target is for 2 cores)")
    args = ap.parse_args()
    print(f"loadavg_start: {loadavg()}")
    with tempfile.TemporaryDirectory() as tmp, Store(str(Path(tmp) / "bench.duckdb")) as store:
        t0 = time.perf_counter()
        seed(store, args.samples)
        print(f"seed_s: {time.perf_counter() - t0:.1f}")
        store.con.execute(f"SET threads = {args.threads}")
        print(f"verdicts: {store._scalar('SELECT count(*) FROM verdicts')}")
        cases = {
            "dashboard": lambda: dashboard(store),
            "queue_first_page": lambda: store.audit_queue(),
            "queue_page_50": lambda: store.audit_queue(offset=1000),
            "queue_judge_checker": lambda: store.audit_queue(judge="checker"),
            "queue_category_style": lambda: store.audit_queue(category="style"),
            "audit_pairs": lambda: store.audit_pairs(),
            "audit_label_counts": lambda: store.audit_label_counts(),
            "agreement_report": lambda: agreement_report(store),
        }
        timings = {}
        for name, fn in cases.items():
            timings[name], _ = best(fn, args.repeat)
            print(f"{name}_s: {timings[name]:.3f}")
    print(f"loadavg_end: {loadavg()}")
    ok = timings["dashboard"] <= TARGET_S
    print(f"RESULT dashboard_s={timings['dashboard']:.3f} target={TARGET_S} ok={str(ok).lower()}")


if __name__ == "__main__":
    main()
