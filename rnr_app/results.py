"""An action's result, kept with the settings it was made with, so it shows only while they are on screen."""

from collections.abc import Callable

import streamlit as st

from rnr_core.errors import RnrError


def act(key: str, subject: dict, action: Callable[[], object]) -> dict:
    """Run `action`; its value or its error replaces whatever the last action under `key` left."""
    st.session_state.pop(key, None)  # gone even if the action raises something unexpected
    try:
        kept = {"subject": subject, "value": action()}
    except RnrError as exc:
        kept = {"subject": subject, "error": exc}
    st.session_state[key] = kept
    return kept


def current(key: str, subject: dict) -> dict | None:
    """The last result under `key` if it was made for `subject`, else None."""
    kept = st.session_state.get(key)
    return kept if kept and kept["subject"] == subject else None


def earlier(key: str, subject: dict) -> dict | None:
    """The last successful result under `key` when it was made with other settings."""
    kept = st.session_state.get(key)
    return kept if kept and "value" in kept and kept["subject"] != subject else None


def forget(key: str) -> None:
    st.session_state.pop(key, None)
