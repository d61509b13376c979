"""Model settings a user picks at run time (endpoint, key variable, timeout, concurrency) and a
connection check that says what failed."""

import os
import re
import time
from dataclasses import dataclass

from rnr_core import settings
from rnr_core.errors import RnrError, SettingError
from rnr_core.models.base import GenParams
from rnr_core.models.openai_compat import DEFAULT_RETRY, OpenAICompatModel, from_spec
from rnr_core.models.registry import get_model, refuse_credentials, register_model
from rnr_core.models.retry import RetryPolicy
from rnr_core.secrets import scrub, watch_key_env

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PING = [{"role": "user", "content": "Reply with the word OK."}]


@dataclass(frozen=True)
class ModelSettings:
    """Either a spec (`local`, `openai:gpt-4o-mini`, ...) or an OpenAI-compatible endpoint."""

    spec: str = settings.DEFAULT_MODEL
    base_url: str = ""
    model: str = ""
    key_env: str = "OPENAI_API_KEY"
    timeout: float = settings.DEFAULT_TIMEOUT
    concurrency: int = 16

    def resolved_spec(self) -> str:
        """The spec runs record: the endpoint's `openai:<model>@<url>` when one is given."""
        if self.base_url.strip():
            if not self.model.strip():
                raise SettingError("Give the model name the endpoint serves (for example 'gpt-4o-mini').")
            return f"openai:{self.model.strip()}@{self.base_url.strip()}"
        if not self.spec.strip():
            raise SettingError("The model spec is empty; 'local' is the embedded model.")
        return self.spec.strip()


def _check(s: ModelSettings) -> None:
    if not _ENV_NAME.match(s.key_env):
        raise SettingError(f"{s.key_env!r} is not an environment variable name (letters, digits, _).")
    if not (s.timeout > 0 and s.concurrency >= 1):
        raise SettingError("Timeout must be above 0 seconds and concurrency at least 1.")


def _build(s: ModelSettings, retry: RetryPolicy = DEFAULT_RETRY):
    _check(s)
    spec = s.resolved_spec()
    refuse_credentials(spec)
    if not spec.startswith("openai:"):
        return get_model(spec)
    watch_key_env(s.key_env)
    options = {"concurrency": s.concurrency, "timeout": s.timeout, "retry": retry, "key_env": s.key_env}
    model = from_spec(spec.removeprefix("openai:"), **options)
    model.spec = spec
    return model


def use_model(s: ModelSettings):
    """Build the model these settings describe and serve it for its spec in this process."""
    model = _build(s)
    if isinstance(model, OpenAICompatModel):
        register_model(model.spec, model)
    return model


async def check_connection(s: ModelSettings) -> dict:
    """Send one tiny request; return {ok, spec, latency_ms, reply} or {ok: False, error} saying why."""
    try:
        model = _build(s, retry=RetryPolicy(attempts=1))  # say what failed now, not after backoff
        start = time.perf_counter()
        done = await model.complete(PING, GenParams(temperature=0.0, max_tokens=8))
    except RnrError as exc:  # the sidebar's check: its fix names the app's controls
        return {"ok": False, "error": scrub(exc.says("app"))}
    return {
        "ok": True,
        "spec": model.spec,
        "latency_ms": round((time.perf_counter() - start) * 1000),
        "reply": done.text[:80],
        "key_set": bool(os.environ.get(s.key_env)),
    }
