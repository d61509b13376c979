"""Remove credentials from text before it is stored or shown."""

import json
import os
import re
from urllib.parse import quote

MASK = "[redacted]"
# Shorter values are no real secret, and masking them would garble every message.
MIN_KEY_LENGTH = 8

_PATTERNS = [
    # An Authorization header's token, however the server echoed it (tokens are long; prose is not).
    (re.compile(r"(?i)\b(bearer)(\s+)[^\s\"',;}\]]{8,}"), rf"\1\2{MASK}"),
    # OpenAI-style keys (sk-..., sk-proj-...).
    (re.compile(r"\bsk-[A-Za-z0-9_\-]{12,}"), MASK),
    # The user info of a URL: scheme://user:pass@host or scheme://TOKEN@host.
    (re.compile(r"(://)[^/@\s\"']+@"), rf"\1{MASK}@"),
    # A secret-looking URL parameter: ?api_key=..., &token=..., #access_token=...
    # (a name ending in the word, so max_tokens and api-version stay readable).
    (
        re.compile(
            r"(?i)([?&#;][\w.\-]*(?:key|token|secret|passw(?:or)?d|pwd|pass|auth|authorization"
            r"|credentials?|signature|sig)=)[^&#\s\"']+"
        ),
        rf"\1{MASK}",
    ),
]


def _key_forms(key: str) -> set[str]:
    """The key as written, URL-quoted and JSON-escaped: a server may echo any of them."""
    return {key, quote(key, safe=""), json.dumps(key)[1:-1]}


# Environment variables that hold API keys: OPENAI_API_KEY, plus every one the operator's configuration
# lets a model read (rnr_core.access adds them when it loads it, before any key is read).
KEY_ENVS = {"OPENAI_API_KEY"}


def watch_key_env(name: str) -> None:
    """Mask the value of environment variable `name` too, from now on."""
    KEY_ENVS.add(name)


def scrub(text: str) -> str:
    """`text` with API keys' values, bearer tokens, sk- keys and URL credentials masked."""
    for env in sorted(KEY_ENVS):
        key = os.environ.get(env, "").strip()
        if len(key) >= MIN_KEY_LENGTH:
            for form in _key_forms(key):
                text = text.replace(form, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def has_secret(text: str) -> bool:
    """Whether `text` carries anything `scrub` would mask."""
    return scrub(text) != text
