"""Model settings a user picks at run time (endpoint, key variable, timeout, concurrency) and a
connection check that says what failed."""

import time
from dataclasses import dataclass

from rnr_core import access, settings
from rnr_core.errors import RnrError, SettingError
from rnr_core.models.base import GenParams
from rnr_core.models.openai_compat import DEFAULT_RETRY, OpenAICompatModel, from_spec
from rnr_core.models.registry import get_model, refuse_credentials, register_model
from rnr_core.models.retry import RetryPolicy
from rnr_core.operator import ENV_NAME
from rnr_core.secrets import scrub, watch_key_env

PING = [{"role": "user", "content": "Reply with the word OK."}]
# How the sidebar names the model: a spec string, or an OpenAI-compatible endpoint's fields.
MODES = ("Spec", "Endpoint")


@dataclass(frozen=True)
class ModelSettings:
    """A spec (`local`, `openai:gpt-4o-mini`, ...), or with `endpoint` set an OpenAI-compatible
    server's base URL and model name (the spec is then unused). With `team` set, the operator's model of
    that name, whose settings replace all others (see `team_model_settings`)."""

    spec: str = settings.DEFAULT_MODEL
    base_url: str = ""
    model: str = ""
    key_env: str = "OPENAI_API_KEY"
    timeout: float = settings.DEFAULT_TIMEOUT
    concurrency: int = 16
    endpoint: bool = False
    team: str = ""

    def resolved_spec(self) -> str:
        """The spec runs record: the endpoint's `openai:<model>@<url>` in endpoint mode."""
        s = effective(self)
        if s.endpoint:  # the endpoint's fields, even empty ones: never the spec in their place
            return s._endpoint_spec()
        if not self.spec.strip():
            raise SettingError(
                "The model spec is empty: type one under Model in the sidebar ('local' is the "
                "embedded model)."
            )
        return self.spec.strip()

    def _endpoint_spec(self) -> str:
        """The endpoint's spec; never another model when a field is empty: say which is missing."""
        missing = [
            what
            for what, value in (("a base URL", self.base_url), ("a model name", self.model))
            if not value.strip()
        ]
        if missing:
            raise SettingError(
                f"Endpoint mode needs {' and '.join(missing)}: fill in Base URL and Model name under Model "
                "in the sidebar, or choose by Spec."
            )
        return f"openai:{self.model.strip()}@{self.base_url.strip()}"

    def shown_spec(self) -> str:
        """The spec as the app shows it: any credential typed into it masked."""
        return scrub(self.resolved_spec())


def check_key_env(name: str) -> str:
    """`name` if it names an environment variable the operator allows ('' sends no key); the message
    never repeats it (it may be a key)."""
    if name and not ENV_NAME.match(name):
        raise SettingError(
            "API key variable takes the NAME of an environment variable that holds the key (letters, digits "
            "and _, such as OPENAI_API_KEY), never the key itself."
        )
    return name and access.allowed_key_env(name)


def team_model_settings(name: str) -> ModelSettings:
    """The settings of the operator's model `name`: its endpoint, key variable, timeout and concurrency."""
    m = access.team_model(name)
    return ModelSettings(
        base_url=m.base_url,
        model=m.model,
        key_env=m.key_env or "",
        timeout=m.timeout,
        concurrency=m.concurrency,
        endpoint=True,
        team=m.name,
    )


def effective(s: ModelSettings) -> ModelSettings:
    """The settings that run: a team model's own (never a visitor's key variable or URL); in team mode
    nothing else."""
    if s.team:
        return team_model_settings(s.team)
    if access.config().team:
        raise SettingError(
            "In team mode only the operator's models can be used: pick one by name under Model in the "
            "sidebar."
        )
    return s


def check_limits(timeout: float, concurrency: int) -> None:
    if not (timeout > 0 and concurrency >= 1):
        raise SettingError("Timeout must be above 0 seconds and concurrency at least 1.")


def _check(s: ModelSettings) -> None:
    check_key_env(s.key_env)
    check_limits(s.timeout, s.concurrency)


def _build(s: ModelSettings, retry: RetryPolicy = DEFAULT_RETRY):
    s = effective(s)
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
        "key_set": bool(getattr(model, "api_key", None)),
    }
