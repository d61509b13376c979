"""The LLM call log, which doubles as a response cache.

Rows are buffered and written in batches: one transaction per call would cost more than the
call itself against a fast server. Callers flush before they store what a call produced, so a
crash never loses the log entry of an answer that was used.
"""

import json

import pyarrow as pa

FLUSH_EVERY = 64
_COLUMNS = (
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
_TYPES = {"prompt_tokens": pa.int64(), "completion_tokens": pa.int64(), "latency_ms": pa.float64()}


class CallLog:
    _call_buffer: list | None = None

    def cached_keys(self) -> set[str]:
        """Keys of every successful call, so callers can skip lookups that would miss."""
        self.flush_calls()
        return {
            k
            for (k,) in self.con.execute(
                "SELECT DISTINCT cache_key FROM llm_calls WHERE status = 'ok'"
            ).fetchall()
        }

    def cached_response(self, cache_key: str) -> dict | None:
        """The newest successful call with this key, if any."""
        self.flush_calls()
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
        if self._call_buffer is None:
            self._call_buffer = []
        self._call_buffer.append(
            (
                cache_key,
                run_id,
                model,
                json.dumps(request),
                response,
                status,
                error,
                usage.get("prompt_tokens"),
                usage.get("completion_tokens"),
                latency_ms,
            )
        )
        if len(self._call_buffer) >= FLUSH_EVERY:
            self.flush_calls()

    def flush_calls(self) -> None:
        """Write buffered call rows in one statement (inside the caller's transaction, if any)."""
        if not self._call_buffer:
            return
        rows, self._call_buffer = self._call_buffer, []
        # One columnar insert: DuckDB's executemany runs row by row, about 2 ms a row.
        table = pa.table(
            {name: pa.array(col, _TYPES.get(name, pa.string())) for name, col in zip(_COLUMNS, zip(*rows))}
        )
        self.con.register("_calls", table)
        try:
            self.con.execute(
                f"INSERT INTO llm_calls ({', '.join(_COLUMNS)}) SELECT {', '.join(_COLUMNS)} FROM _calls"
            )
        finally:
            self.con.unregister("_calls")
