"""The LLM call log, which doubles as a response cache."""

import json


class CallLog:
    def cached_response(self, cache_key: str) -> dict | None:
        """The newest successful call with this key, if any."""
        return self._one(
            "SELECT response, prompt_tokens, completion_tokens, latency_ms FROM llm_calls "
            "WHERE cache_key = ? AND status = 'ok' ORDER BY id DESC LIMIT 1", [cache_key])

    def log_call(self, cache_key: str, model: str, request: dict, status: str, run_id: str | None = None,
                 response: str | None = None, error: str | None = None, usage: dict | None = None,
                 latency_ms: float | None = None) -> None:
        usage = usage or {}
        self.con.execute(
            "INSERT INTO llm_calls (cache_key, run_id, model, request, response, status, error, "
            "prompt_tokens, completion_tokens, latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [cache_key, run_id, model, json.dumps(request), response, status, error,
             usage.get("prompt_tokens"), usage.get("completion_tokens"), latency_ms])
