"""AppTest helpers every page test shares: a seeded store the app opens, a page run, its text."""

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

TIMEOUT = 60
APP = Path(__file__).resolve().parent.parent / "app.py"


def open_page(page: str | None = None, *, secrets: dict | None = None, user: dict | None = None, **session):
    """The app run once, then `page`: with `secrets` (st.secrets), `user` (st.user) and session values."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for key, value in (secrets or {}).items():
        at.secrets[key] = value
    if user is not None:
        at.user = user
    for key, value in session.items():
        at.session_state[key] = value
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    """Everything the page shows as text, markdown, captions and messages, in one string."""
    parts = [
        e.value
        for kind in ("text", "markdown", "caption", "error", "warning", "success", "info", "code")
        for e in getattr(at, kind)
    ]
    return "\n".join(plain(p) for p in parts)


def plain(shown) -> str:
    """What the user reads: markdown escapes removed (pages escape stored and user text)."""
    return re.sub(r"\\(.)", r"\1", str(shown))
