"""Generation runs and the per-item ledger that makes them resumable."""

import json


class RunQueries:
    def create_run(self, run_id: str, dataset_id: int, model: str, config: dict) -> None:
        self.con.execute(
            "INSERT INTO runs (id, dataset_id, model, config, status) VALUES (?, ?, ?, ?, 'running')",
            [run_id, dataset_id, model, json.dumps(config)],
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
            "SELECT r.id, d.name AS dataset, r.model, r.status, r.created_at, r.updated_at "
            "FROM runs r JOIN datasets d ON d.id = r.dataset_id ORDER BY r.created_at"
        )
        for run in runs:
            run["counts"] = self.run_counts(run["id"])
        return runs

    def run_statuses(self) -> dict[str, str]:
        """Every run's id and status, newest first: what pickers list, without counting samples."""
        return dict(self.con.execute("SELECT id, status FROM runs ORDER BY created_at DESC, id").fetchall())

    def set_run_status(self, run_id: str, status: str, error: str | None = None) -> None:
        self.con.execute(
            "UPDATE runs SET status = ?, error = ?, updated_at = current_timestamp WHERE id = ?",
            [status, error, run_id],
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
