"""The LLM call log (which doubles as a response cache) and the attempt log, written by group commit.

Rows are buffered and written in batches: one transaction per call would cost more than the call
itself against a fast server. The attempt engine flushes every 200 ms (`rnr_core.attempts`), so a
killed process loses at most the last fraction of a second of answers, and callers flush before
they store what a call produced, so a stored result always has its log entry.
"""

import json

import pyarrow as pa

FLUSH_EVERY = 256
CALL_COLUMNS = (
    "cache_key",
    "run_id",
    "model",
    "request",
    "response",
    "status",
    "error",
    "prompt_tokens",
    "completion_tokens",
    "latency_ms",
)
ATTEMPT_COLUMNS = (
    "scope",
    "item_key",
    "stage",
    "attempt",
    "seed",
    "outcome",
    "reason",
    "error",
    "raw_output",
    "template",
    "cached",
)
_TYPES = {
    "prompt_tokens": pa.int64(),
    "completion_tokens": pa.int64(),
    "latency_ms": pa.float64(),
    "attempt": pa.int64(),
    "seed": pa.int64(),
    "cached": pa.bool_(),
}
_TABLES = {"llm_calls": CALL_COLUMNS, "llm_attempts": ATTEMPT_COLUMNS}


class CallLog:
    _buffers: dict | None = None

    def cached_keys(self) -> set[str]:
        """Keys of every successful call, so callers can skip lookups that would miss."""
        self.flush_log()
        return {
            k
            for (k,) in self.con.execute(
                "SELECT DISTINCT cache_key FROM llm_calls WHERE status = 'ok'"
            ).fetchall()
        }

    def cached_response(self, cache_key: str) -> dict | None:
        """The newest successful call with this key, if any."""
        self.flush_log()
        return self._one(
            "SELECT response, prompt_tokens, completion_tokens, latency_ms FROM llm_calls "
            "WHERE cache_key = ? AND status = 'ok' ORDER BY id DESC LIMIT 1",
            [cache_key],
        )

    def log_call(
        self,
        cache_key: str,
        model: str,
        request: dict,
        status: str,
        run_id: str | None = None,
        response: str | None = None,
        error: str | None = None,
        usage: dict | None = None,
        latency_ms: float | None = None,
    ) -> None:
        usage = usage or {}
        row = (cache_key, run_id, model, json.dumps(request), response, status, error)
        self._buffer(
            "llm_calls", (*row, usage.get("prompt_tokens"), usage.get("completion_tokens"), latency_ms)
        )

    def log_attempt(self, attempt: dict) -> None:
        """One try of an LLM stage: its seed, outcome ('ok', 'invalid', 'failed_checks', 'error'),
        the reason and raw output when it failed, and the prompt template it used."""
        self._buffer("llm_attempts", tuple(attempt.get(c) for c in ATTEMPT_COLUMNS))

    def _buffer(self, table: str, row: tuple) -> None:
        if self._buffers is None:
            self._buffers = {name: [] for name in _TABLES}
        self._buffers[table].append(row)
        if len(self._buffers[table]) >= FLUSH_EVERY:
            self.flush_log()

    def flush_log(self) -> None:
        """Write every buffered row in one transaction (the caller's, if one is open)."""
        if not self._buffers or not any(self._buffers.values()):
            return
        buffers, self._buffers = self._buffers, None
        with self.transaction():
            for table, rows in buffers.items():
                if rows:
                    self.insert_columnar(table, _TABLES[table], rows, _TYPES)

    def attempt_log(self, scope: str, item_key: str | None = None) -> list[dict]:
        """Every logged try in a scope (a run id, or a judge's identity), oldest first."""
        self.flush_log()
        return self._rows(
            "SELECT * FROM llm_attempts WHERE scope = ? AND (? IS NULL OR item_key = ?) ORDER BY id",
            [scope, item_key, item_key],
        )

    def failure_reasons(self, stage: str | None = None) -> list[dict]:
        """Counts of failed tries by stage, prompt template and reason."""
        self.flush_log()
        return self._rows(
            "SELECT stage, template, outcome, reason, count(*) AS tries FROM llm_attempts "
            "WHERE outcome <> 'ok' AND (? IS NULL OR stage = ?) "
            "GROUP BY ALL ORDER BY stage, template, tries DESC",
            [stage, stage],
        )
