"""Generation runs and the per-item ledger that makes them resumable."""

import json


class RunQueries:
    def create_run(
        self, run_id: str, dataset_id: int, model: str, config: dict, started_by: str | None = None
    ) -> None:
        self.con.execute(
            "INSERT INTO runs (id, dataset_id, model, config, status, started_by) "
            "VALUES (?, ?, ?, ?, 'running', ?)",
            [run_id, dataset_id, model, json.dumps(config), started_by],
        )

    def get_run(self, run_id: str) -> dict | None:
        run = self._one(
            "SELECT r.*, d.name AS dataset FROM runs r JOIN datasets d ON d.id = r.dataset_id WHERE r.id = ?",
            [run_id],
        )
        if run:
            run["config"] = json.loads(run["config"])
            run["counts"] = self.run_counts(run_id)
        return run

    def list_runs(self) -> list[dict]:
        runs = self._rows(
            "SELECT r.id, d.name AS dataset, r.model, r.status, r.started_by, r.created_at, r.updated_at "
            "FROM runs r JOIN datasets d ON d.id = r.dataset_id ORDER BY r.created_at"
        )
        for run in runs:
            run["counts"] = self.run_counts(run["id"])
        return runs

    def run_statuses(self) -> dict[str, str]:
        """Every run's id and status, newest first: what pickers list, without counting samples."""
        return dict(self.con.execute("SELECT id, status FROM runs ORDER BY created_at DESC, id").fetchall())

    def set_run_status(self, run_id: str, status: str, error: str | None = None, hint: str | None = None):
        """Record how a run stands; `error` says what happened, `hint` (rnr_core.hints) what to change."""
        self.con.execute(
            "UPDATE runs SET status = ?, error = ?, error_hint = ?, updated_at = current_timestamp "
            "WHERE id = ?",
            [status, error, hint, run_id],
        )

    def run_ledgers(self, run_ids: list[str] | None = None, limit: int | None = None) -> list[dict]:
        """Runs, newest first, each with its plan, ledger counts by (stage, status) and samples made.

        What rnr_core.runs builds every run's state from: three grouped queries, whatever the count.
        """
        runs = self._rows(
            "SELECT r.id, d.name AS dataset, r.model, r.config, r.status, r.error, r.error_hint, "
            "r.started_by, r.created_at, r.updated_at FROM runs r JOIN datasets d ON d.id = r.dataset_id "
            "WHERE ?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], r.id) "
            "ORDER BY r.created_at DESC, r.id LIMIT ?",
            [run_ids, run_ids, limit if limit is not None else 2**62],
        )
        ids = [r["id"] for r in runs]
        items: dict[str, list] = {i: [] for i in ids}
        for run_id, stage, status, count, tries in self.con.execute(
            "SELECT run_id, stage, status, count(*), sum(attempts) FROM run_items "
            "WHERE list_contains(?::VARCHAR[], run_id) GROUP BY ALL",
            [ids],
        ).fetchall():
            items[run_id].append((stage, status, count, int(tries or 0)))
        samples = dict(
            self.con.execute(
                "SELECT run_id, count(*) FROM samples "
                "WHERE list_contains(?::VARCHAR[], run_id) GROUP BY run_id",
                [ids],
            ).fetchall()
        )
        for run in runs:
            run["config"] = json.loads(run["config"])
            run["items"], run["samples"] = items[run["id"]], samples.get(run["id"], 0)
        return runs

    def failed_items(self, run_id: str, limit: int = 20) -> list[dict]:
        """A run's first failed items with the reason code of their last failed try."""
        self.flush_log()
        sql = f"{_FAILED} SELECT * FROM failed ORDER BY item_key LIMIT ?"
        return self._rows(sql, [run_id, run_id, limit])

    def failure_counts(self, run_id: str) -> list[dict]:
        """How many items failed per (stage, reason), most first, with one error as an example."""
        self.flush_log()
        return self._rows(
            f"{_FAILED} SELECT stage, reason, count(*) AS count, min(error) AS example "
            "FROM failed GROUP BY ALL ORDER BY count DESC, stage, reason",
            [run_id, run_id],
        )

    def record_item(
        self,
        run_id: str,
        key: str,
        stage: str,
        status: str,
        attempts: int,
        error: str | None = None,
        raw_output: str | None = None,
    ) -> None:
        """Write the latest outcome of one unit of work."""
        self.con.execute(
            "INSERT OR REPLACE INTO run_items (run_id, item_key, stage, status, attempts, error, "
            "raw_output, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, current_timestamp)",
            [run_id, key, stage, status, attempts, error, raw_output],
        )

    def run_items(self, run_id: str, status: str | None = None) -> list[dict]:
        return self._rows(
            "SELECT * FROM run_items WHERE run_id = ? AND (? IS NULL OR status = ?) ORDER BY item_key",
            [run_id, status, status],
        )

    def done_items(self, run_id: str) -> set[str]:
        return {
            k
            for (k,) in self.con.execute(
                "SELECT item_key FROM run_items WHERE run_id = ? AND status = 'done'", [run_id]
            ).fetchall()
        }

    def run_counts(self, run_id: str) -> dict:
        counts = dict(
            self.con.execute(
                "SELECT status, count(*) FROM run_items WHERE run_id = ? GROUP BY status", [run_id]
            ).fetchall()
        )
        counts["samples"] = self._scalar("SELECT count(*) FROM samples WHERE run_id = ?", [run_id])
        return counts


# A run's failed items, each with the reason code of its last failed try: the parser's or the
# quality gate's code, or 'call' when the model call itself failed.
_FAILED = """WITH failed AS (
    SELECT i.*, coalesce(a.reason, CASE WHEN a.outcome = 'error' THEN 'call' END, 'unknown') AS reason
    FROM run_items i LEFT JOIN (
        SELECT item_key, reason, outcome FROM llm_attempts
        WHERE scope = ? AND outcome IN ('invalid', 'error')
        QUALIFY row_number() OVER (PARTITION BY item_key ORDER BY id DESC) = 1) a
      ON a.item_key = i.item_key
    WHERE i.run_id = ? AND i.status = 'failed')"""
