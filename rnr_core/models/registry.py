"""Resolve model spec strings to backends: one registry line per backend."""

import re
from collections.abc import Callable

from rnr_core.errors import ModelSpecError

BACKENDS: dict[str, tuple[Callable, str]] = {}
ALIASES: dict[str, Callable[[], str]] = {}
_LOADED: dict[str, object] = {}
_CREDENTIALS = re.compile(r"://[^/@]+@")


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


def get_model(spec: str):
    """The model for a spec, built once per process so weights load once."""
    _load_backends()
    if _CREDENTIALS.search(spec):
        raise ModelSpecError(
            "Model specs are stored with every sample: keep credentials out of the "
            "URL and put the key in OPENAI_API_KEY instead."
        )
    if spec not in _LOADED:
        resolved = ALIASES[spec]() if spec in ALIASES else spec
        prefix, _, rest = resolved.partition(":")
        if prefix not in BACKENDS or not rest:
            raise ModelSpecError(f"Unknown model spec {spec!r}. Valid forms: {'; '.join(valid_forms())}.")
        model = BACKENDS[prefix][0](rest)
        model.spec = spec
        _LOADED[spec] = model
    return _LOADED[spec]
