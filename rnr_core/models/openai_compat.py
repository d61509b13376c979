"""Any OpenAI-compatible chat endpoint, through the official async client."""

import asyncio
import os
import time
import weakref
from collections.abc import AsyncIterator

import openai
from openai.types.chat import ChatCompletion

from rnr_core import access, settings
from rnr_core.errors import ModelCallError, ModelSpecError
from rnr_core.models.base import Completion, GenParams, Model
from rnr_core.models.registry import backend, refuse_credentials
from rnr_core.models.retry import RetryPolicy, retry_async

DEFAULT_RETRY = RetryPolicy()
TRANSIENT = (
    openai.RateLimitError,
    openai.InternalServerError,
    openai.APITimeoutError,
    openai.APIConnectionError,
)


def _is_transient(exc: Exception) -> bool:
    if isinstance(exc, TRANSIENT):
        return True
    return isinstance(exc, openai.APIStatusError) and exc.status_code >= 500


class OpenAICompatModel(Model):
    """Chat completions with a concurrency limit, retries, JSON mode and usage records."""

    def __init__(
        self,
        name: str,
        base_url: str | None = None,
        concurrency: int | None = None,
        timeout: float = settings.DEFAULT_TIMEOUT,
        retry: RetryPolicy = DEFAULT_RETRY,
        key_env: str = "OPENAI_API_KEY",
    ):
        self.name, self.base_url, self.timeout, self.retry = name, base_url, timeout, retry
        self.concurrency = concurrency or int(os.environ.get("RNR_CONCURRENCY", "16"))
        self.key_env = key_env
        # Only a variable the operator allows is ever read: a visitor must not make the server send
        # another one (a cloud credential, a password) to a URL of their choosing.
        self.api_key = os.environ.get(access.allowed_key_env(key_env)) if key_env else None
        if not self.api_key and base_url is None:
            raise ModelSpecError("No API key found for OpenAI.", hint="api_key", key_env=key_env)
        # Background jobs each run their own event loop; entries go when their loop is collected.
        self._per_loop: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _client(self):
        """A client and semaphore for the running event loop; neither may cross loops."""
        loop = asyncio.get_running_loop()
        if loop not in self._per_loop:
            client = openai.AsyncOpenAI(
                api_key=self.api_key or "no-key", base_url=self.base_url, timeout=self.timeout, max_retries=0
            )
            self._per_loop[loop] = (client, asyncio.Semaphore(self.concurrency))
        return self._per_loop[loop]

    def _request(self, messages: list[dict], params: GenParams) -> dict:
        request = {
            "model": self.name,
            "messages": messages,
            "temperature": params.temperature,
            "max_tokens": params.max_tokens,
        }
        if params.seed is not None:
            request["seed"] = params.seed
        if params.json_schema is not None:
            request["response_format"] = self._json_format(params.json_schema)
        return request

    def _json_format(self, schema: dict) -> dict:
        # OpenAI itself wants json_schema; llama.cpp, vLLM and Ollama take a schema inside json_object.
        if self.base_url is None:
            return {"type": "json_schema", "json_schema": {"name": "reply", "schema": schema}}
        return {"type": "json_object", "schema": schema}

    async def complete(self, messages: list[dict], params: GenParams) -> Completion:
        client, limit = self._client()
        request = self._request(messages, params)

        async def once():
            async with limit:
                start = time.perf_counter()
                # The generic post skips the SDK's per-request body transform (a quarter of its
                # CPU per call) and still parses the reply into the SDK's ChatCompletion type.
                reply = await client.post("/chat/completions", body=request, cast_to=ChatCompletion)
                return reply, (time.perf_counter() - start) * 1000

        try:
            reply, latency = await retry_async(once, _is_transient, self.retry)
        except openai.OpenAIError as exc:
            what, hint = self._explain(exc)
            raise ModelCallError(what, transient=_is_transient(exc), hint=hint) from exc
        if not reply.choices:
            raise ModelCallError(f"{self.base_url or 'OpenAI'} returned no choices for {self.name!r}.")
        usage = reply.usage
        return Completion(
            text=reply.choices[0].message.content or "",
            usage={"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens}
            if usage
            else {},
            latency_ms=latency,
        )

    async def stream(self, messages: list[dict], params: GenParams) -> AsyncIterator[str]:
        """The reply as the server sends it. Opening the stream is retried like `complete`; a stream cut
        off midway is not (its text is already out), it fails with what the server said."""
        client, limit = self._client()
        request = {**self._request(messages, params), "stream": True}
        async with limit:  # a stream holds its slot until its last chunk
            try:
                chunks = await retry_async(
                    lambda: client.chat.completions.create(**request), _is_transient, self.retry
                )
                async with chunks:
                    async for chunk in chunks:
                        if chunk.choices and chunk.choices[0].delta.content:
                            yield chunk.choices[0].delta.content
            except openai.OpenAIError as exc:
                what, hint = self._explain(exc)
                raise ModelCallError(what, transient=_is_transient(exc), hint=hint) from exc

    def describe(self) -> dict:
        return {**super().describe(), "name": self.name, "base_url": self.base_url}

    def _explain(self, exc: Exception) -> tuple[str, str | None]:
        """What failed, and the hint that says what to change; whether to resume is the run's to say."""
        where = self.base_url or "api.openai.com"
        if isinstance(exc, openai.APITimeoutError):  # before its base class, APIConnectionError
            return (
                f"{where} did not answer within the {self.timeout:g} s timeout "
                f"({self.retry.attempts} tries).",
                "timeout",
            )
        if isinstance(exc, openai.APIConnectionError):
            return (
                f"Cannot reach {where} after {self.retry.attempts} tries ({exc}). "
                "Check that the server is running and the URL is right.",
                None,
            )
        if isinstance(exc, openai.AuthenticationError):
            return f"{where} rejected the API key. Check the key in {self.key_env}.", None
        return f"{where} failed for model {self.name!r}: {exc}", None


def from_spec(rest: str, **options) -> OpenAICompatModel:
    """The model for the part of a spec after `openai:` (`<model>` or `<model>@<base-url>`)."""
    name, _, url = rest.partition("@")
    if not url and os.environ.get("OPENAI_BASE_URL"):
        url = os.environ["OPENAI_BASE_URL"]
        refuse_credentials(url, "OPENAI_BASE_URL")
    return OpenAICompatModel(name, base_url=url or None, **options)


@backend("openai", "openai:<model> (key in OPENAI_API_KEY) or openai:<model>@<base-url>")
def _make(rest: str) -> OpenAICompatModel:
    name, _, url = rest.partition("@")
    team = access.config().model_at(name, url)
    if team:  # a team model's recorded spec resumes with the operator's key variable and limits
        return from_spec(rest, timeout=team.timeout, concurrency=team.concurrency, key_env=team.key_env or "")
    return from_spec(rest, timeout=settings.timeout())
