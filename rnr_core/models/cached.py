"""LLM calls through the store's call log, which is also the cache."""

from rnr_core.errors import ModelCallError
from rnr_core.messages import stable_hash
from rnr_core.models.base import Completion, GenParams, Model


def cache_key(model: Model, messages: list[dict], params: GenParams) -> str:
    """Same model (spec and endpoint), same conversation, same settings: same answer."""
    return stable_hash({"model": model.describe(), "messages": messages, "params": params.as_dict()})


class CachedCaller:
    """Answers from the log when the same request succeeded before; logs every real call."""

    def __init__(self, store, model: Model, run_id: str | None = None):
        self.store, self.model, self.run_id = store, model, run_id
        self.known = store.cached_keys()  # one query instead of a lookup per call

    async def __call__(self, messages: list[dict], params: GenParams) -> Completion:
        key = cache_key(self.model, messages, params)
        hit = self.store.cached_response(key) if key in self.known else None
        if hit:
            return Completion(
                hit["response"],
                {"prompt_tokens": hit["prompt_tokens"], "completion_tokens": hit["completion_tokens"]},
                hit["latency_ms"] or 0.0,
                cached=True,
            )
        request = {"messages": messages, "params": params.as_dict()}
        try:
            result = await self.model.complete(messages, params)
        except ModelCallError as exc:
            self.store.log_call(key, self.model.spec, request, "error", self.run_id, error=str(exc))
            raise
        self.store.log_call(
            key,
            self.model.spec,
            request,
            "ok",
            self.run_id,
            response=result.text,
            usage=result.usage,
            latency_ms=result.latency_ms,
        )
        self.known.add(key)
        return result
