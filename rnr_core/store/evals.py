"""Evaluations: one model's answers to a benchmark's items and every judge's per-rule verdicts."""

import json

import pyarrow as pa

RESPONSE_COLUMNS = ("eval_id", "item_key", "status", "response", "error", "raw_output", "attempts")
VERDICT_COLUMNS = (
    "eval_id",
    "item_key",
    "rule_id",
    "judge",
    "mode",
    "verdict",
    "rationale",
    "template",
    "raw_output",
)


class EvalQueries:
    def open_eval(
        self, eval_id: str, benchmark_id: int, model: str, judge: str | None, params: dict, started_by=None
    ) -> None:
        """Create the evaluation, or mark an existing one running again (it resumes)."""
        self.con.execute(
            "INSERT INTO evals (id, benchmark_id, model, judge, params, status, started_by) "
            "VALUES (?, ?, ?, ?, ?, 'running', ?) ON CONFLICT (id) DO UPDATE SET "
            "status = 'running', error = NULL, judge = coalesce(excluded.judge, judge), "
            "updated_at = now()",
            [eval_id, benchmark_id, model, judge, json.dumps(params, sort_keys=True), started_by],
        )

    def set_eval_status(self, eval_id: str, status: str, error: str | None = None) -> None:
        self.con.execute(
            "UPDATE evals SET status = ?, error = ?, updated_at = current_timestamp WHERE id = ?",
            [status, error, eval_id],
        )

    def save_eval_rows(self, responses: list[tuple], verdicts: list[tuple]) -> None:
        """Insert or replace answers (RESPONSE_COLUMNS) and verdicts (VERDICT_COLUMNS) in one transaction."""
        with self.transaction():
            self._replace("eval_responses", RESPONSE_COLUMNS, responses, {"attempts": pa.int32()})
            self._replace("eval_verdicts", VERDICT_COLUMNS, verdicts, {})

    def _replace(self, table: str, columns: tuple, rows: list[tuple], types: dict) -> None:
        if not rows:
            return
        data = pa.table({c: pa.array(col, types.get(c, pa.string())) for c, col in zip(columns, zip(*rows))})
        self.con.register("_eval_rows", data)
        try:
            cols = ", ".join(columns)
            self.con.execute(f"INSERT OR REPLACE INTO {table} ({cols}) SELECT {cols} FROM _eval_rows")
        finally:
            self.con.unregister("_eval_rows")

    def eval_responses(self, eval_id: str) -> dict[str, dict]:
        """Stored answers by item key: status, response, error, raw_output, attempts."""
        rows = self._rows("SELECT * FROM eval_responses WHERE eval_id = ?", [eval_id])
        return {r["item_key"]: r for r in rows}

    def eval_verdicts(self, eval_id: str, judge: str | None = None) -> list[dict]:
        return self._rows(
            "SELECT item_key, rule_id, judge, mode, verdict, rationale, template, raw_output "
            "FROM eval_verdicts WHERE eval_id = ? AND (? IS NULL OR judge = ?)",
            [eval_id, judge, judge],
        )

    def get_eval(self, eval_id: str) -> dict | None:
        return self._one("SELECT * FROM evals WHERE id = ?", [eval_id])

    def latest_eval(self, benchmark_id: int, model: str, status: str | None = None) -> dict | None:
        """The evaluation of this model on this benchmark (with `status`, if given) that ran last,
        preferring one with a judge: answering again for a compare must not hide a judged evaluation."""
        return self._one(
            "SELECT * FROM evals WHERE benchmark_id = ? AND model = ? AND (? IS NULL OR status = ?) "
            "ORDER BY judge IS NOT NULL DESC, updated_at DESC LIMIT 1",
            [benchmark_id, model, status, status],
        )

    def attempts_tried(self, scope: str, stage: str) -> dict[str, int]:
        """The last attempt number logged per item of a scope and stage, so a retry takes fresh seeds."""
        self.flush_log()
        return dict(
            self.con.execute(
                "SELECT item_key, max(attempt) FROM llm_attempts WHERE scope = ? AND stage = ? "
                "AND outcome <> 'error' GROUP BY item_key",
                [scope, stage],
            ).fetchall()
        )

    def list_evals(self, benchmark_id: int | None = None) -> list[dict]:
        """Stored evaluations, judged ones first (newest first within each), with their answer counts:
        the first row of a model is the one its reports show."""
        return self._rows(
            "SELECT e.id, b.name AS benchmark, e.model, e.judge, e.params, e.status, e.error, e.started_by, "
            "e.created_at, e.updated_at, b.n_items AS items, e.judge IS NOT NULL AS judged, "
            "count(r.item_key) FILTER (WHERE r.status = 'done') AS answered, "
            "count(r.item_key) FILTER (WHERE r.status = 'failed') AS failed "
            "FROM evals e JOIN benchmarks b ON b.id = e.benchmark_id "
            "LEFT JOIN eval_responses r ON r.eval_id = e.id "
            "WHERE (? IS NULL OR e.benchmark_id = ?) GROUP BY ALL ORDER BY judged DESC, e.updated_at DESC",
            [benchmark_id, benchmark_id],
        )
