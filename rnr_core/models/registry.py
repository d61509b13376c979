"""Resolve model spec strings to backends: one registry line per backend."""

from collections.abc import Callable

from rnr_core.errors import ModelSpecError
from rnr_core.secrets import has_secret, scrub

BACKENDS: dict[str, tuple[Callable, str]] = {}
ALIASES: dict[str, Callable[[], str]] = {}
_LOADED: dict[str, object] = {}


def backend(prefix: str, form: str):
    """Register a factory taking the text after 'prefix:'; `form` documents the spec."""

    def register(factory):
        BACKENDS[prefix] = (factory, form)
        return factory

    return register


def _load_backends() -> None:
    from rnr_core.models import hf, llamacpp, openai_compat  # noqa: F401  (they register)


def valid_forms() -> list[str]:
    _load_backends()
    return [*ALIASES, *(form for _, form in BACKENDS.values())]


def refuse_credentials(value: str, name: str = "Model spec") -> None:
    """Raise if `value` carries a key, token or password; the message masks it."""
    if has_secret(value):
        raise ModelSpecError(
            f"{name} {scrub(value)!r} carries a credential (shown as [redacted]). It would be stored "
            "with every run and sample and shown in errors: remove it and put the key in the "
            "OPENAI_API_KEY environment variable instead."
        )


def register_model(spec: str, model) -> Callable[[], None]:
    """Serve `model` for `spec` (e.g. a scripted model in tests); returns a function that undoes it."""
    refuse_credentials(spec)
    missing = object()
    previous = _LOADED.get(spec, missing)
    _LOADED[spec] = model

    def undo() -> None:
        if previous is missing:
            _LOADED.pop(spec, None)
        else:
            _LOADED[spec] = previous

    return undo


def get_model(spec: str):
    """The model for a spec, built once per process so weights load once."""
    _load_backends()
    refuse_credentials(spec)
    if spec not in _LOADED:
        resolved = ALIASES[spec]() if spec in ALIASES else spec
        prefix, _, rest = resolved.partition(":")
        if prefix not in BACKENDS or not rest:
            raise ModelSpecError(f"Unknown model spec {spec!r}. Valid forms: {'; '.join(valid_forms())}.")
        model = BACKENDS[prefix][0](rest)
        model.spec = spec
        _LOADED[spec] = model
    return _LOADED[spec]
