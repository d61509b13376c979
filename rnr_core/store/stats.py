"""Store-wide counts, for `rnr stats` and the home page."""

from rnr_core.store.effective import DECIDED, RULES, owner
from rnr_core.store.samples import SAMPLE_STATUSES

_BUCKETS = ("second", "minute", "hour", "day")  # DuckDB's date_trunc parts


class StatsQueries:
    def overview(self) -> dict:
        """Counts across the whole store."""
        self.flush_log()
        by_status = dict(self.con.execute("SELECT status, count(*) FROM samples GROUP BY status").fetchall())
        calls = self._one(
            "SELECT count(*) AS calls, count(*) FILTER (WHERE status = 'ok') AS ok, "
            "coalesce(sum(prompt_tokens), 0) AS prompt_tokens, "
            "coalesce(sum(completion_tokens), 0) AS completion_tokens FROM llm_calls"
        )
        return {
            "datasets": self._scalar("SELECT count(*) FROM datasets"),
            "instructions": self._scalar("SELECT count(*) FROM instructions"),
            "runs": dict(self.con.execute("SELECT status, count(*) FROM runs GROUP BY status").fetchall()),
            "system_prompts": self._scalar("SELECT count(*) FROM system_prompts"),
            "samples": {s: by_status.get(s, 0) for s in SAMPLE_STATUSES},
            "samples_by_kind": dict(
                self.con.execute("SELECT kind, count(*) FROM samples GROUP BY kind").fetchall()
            ),
            "failed_items": self._scalar("SELECT count(*) FROM run_items WHERE status = 'failed'"),
            "llm_calls": calls,
            "failed_tries": self.failure_reasons(),
        }

    # The home page's aggregates: each one query over the whole store.

    def change_token(self) -> tuple:
        """Changes whenever a sample, verdict, run or run item is written: a cheap key for cached
        aggregates, and what Home watches to redraw."""
        return self.con.execute(
            "SELECT (SELECT (count(*), max(updated_at)) FROM samples), "
            "(SELECT (count(*), max(created_at)) FROM verdicts), "
            "(SELECT (count(*), max(updated_at)) FROM runs), "
            "(SELECT (count(*), max(updated_at)) FROM run_items)"
        ).fetchone()

    def samples_by_status(self) -> dict:
        counts = dict(self.con.execute("SELECT status, count(*) FROM samples GROUP BY status").fetchall())
        return {s: counts.pop(s, 0) for s in SAMPLE_STATUSES} | counts

    def rule_pass_counts(self) -> dict:
        """{'category': {name: (passes, n)}, 'kind': {...}} over every rule's deciding verdict, summed from
        the outcomes every verdict write keeps per sample (see store/derived.py)."""
        return _by_category_and_kind(
            self.con.execute(
                "SELECT category, kind, sum(passes)::BIGINT, sum(n)::BIGINT FROM rule_outcomes GROUP BY ALL"
            ).fetchall()
        )

    def recount_rule_passes(self) -> dict:
        """The same counts decided afresh from every verdict (seconds at a million samples): what the
        kept outcomes must equal."""
        rows = self.con.execute(
            # Samples of one prompt share its rules: outcomes are counted per rule of each prompt (or
            # edited sample) before they meet the rules' categories and kinds.
            f"""WITH {DECIDED}, {RULES},
            per_rule AS (
                SELECT {owner()} AS owner, d.rule_h, count(*) FILTER (WHERE d.passed) AS passes, count(*) AS n
                FROM decided d JOIN samples s ON s.id = d.sample_id GROUP BY ALL)
            SELECT r.category, r.kind, sum(p.passes)::BIGINT, sum(p.n)::BIGINT
            FROM per_rule p JOIN rules r USING (owner, rule_h) GROUP BY ALL"""
        ).fetchall()
        return _by_category_and_kind(rows)

    def samples_over_time(self, bucket: str = "day") -> list[dict]:
        """Samples created per `bucket` (one of rnr_core.home.BUCKETS) and status of their run."""
        if bucket not in _BUCKETS:
            raise ValueError(f"bucket must be one of {', '.join(_BUCKETS)}, got {bucket!r}")
        return self._rows(
            "WITH per_run AS (SELECT run_id, date_trunc(?, created_at) AS period, count(*) AS samples "
            "FROM samples GROUP BY ALL) SELECT p.period, r.status AS run_status, sum(p.samples)::BIGINT "
            "AS samples FROM per_run p JOIN runs r ON r.id = p.run_id GROUP BY ALL ORDER BY 1, 2",
            [bucket],
        )

    def created_span(self) -> tuple:
        """(first, last) creation time of any sample."""
        return self.con.execute("SELECT min(created_at), max(created_at) FROM samples").fetchone()

    def latest_runs(self, limit: int = 10) -> list[dict]:
        """The newest runs with their item and sample counts."""
        return self._rows(
            """WITH latest AS (
                SELECT r.id, d.name AS dataset, r.model, r.status, r.error, r.created_at, r.updated_at
                FROM runs r JOIN datasets d ON d.id = r.dataset_id ORDER BY r.created_at DESC, r.id LIMIT ?),
            items AS (SELECT run_id, count(*) FILTER (WHERE status = 'done') AS done,
                count(*) FILTER (WHERE status = 'failed') AS failed
                FROM run_items WHERE run_id IN (SELECT id FROM latest) GROUP BY run_id),
            made AS (SELECT run_id, count(*) AS samples FROM samples
                WHERE run_id IN (SELECT id FROM latest) GROUP BY run_id)
            SELECT l.*, coalesce(i.done, 0) AS done, coalesce(i.failed, 0) AS failed,
                coalesce(m.samples, 0) AS samples
            FROM latest l LEFT JOIN items i ON i.run_id = l.id LEFT JOIN made m ON m.run_id = l.id
            ORDER BY l.created_at DESC, l.id""",
            [limit],
        )


def _by_category_and_kind(rows) -> dict:
    """Fold (category, kind, passes, n) rows into per-category and per-kind (passes, n)."""
    # At most categories x kinds rows: summed here rather than in a second pass over the outcomes.
    counts: dict = {"category": {}, "kind": {}}
    for category, kind, passes, n in rows:
        for by, key in (("category", category), ("kind", kind)):
            p, m = counts[by].get(key, (0, 0))
            counts[by][key] = (p + passes, m + n)
    return counts
