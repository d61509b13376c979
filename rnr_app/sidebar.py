"""The sidebar every page shares: who is reviewing, and which model the work goes to."""

import asyncio

import streamlit as st

from rnr_app import state
from rnr_app.widgets import esc
from rnr_core import settings
from rnr_core.errors import RnrError
from rnr_core.models.connection import check_connection


def draw() -> None:
    with st.sidebar:
        st.text_input("Reviewer", key="reviewer", value=state.reviewer(), help="Stored with every action.")
        with st.expander("Model", expanded=False):
            _model_settings()
        st.caption(esc(f"Store: {state.db_path()}"))


def _model_settings() -> None:
    mode = st.radio("Choose by", ["Spec", "Endpoint"], key="model_mode", horizontal=True)
    if mode == "Spec":
        st.text_input(
            "Model spec",
            key="model_spec",
            value=settings.DEFAULT_MODEL,
            help="local (embedded), openai:gpt-4o-mini, openai:<model>@<base-url>, hf:/path",
        )
    else:
        st.text_input("Base URL", key="base_url", placeholder="http://127.0.0.1:8000/v1")
        st.text_input("Model name", key="endpoint_model", placeholder="gpt-4o-mini")
    st.text_input(
        "API key variable",
        key="key_env",
        value="OPENAI_API_KEY",
        help="The name of the environment variable that holds the key; the key itself is never stored.",
    )
    st.number_input("Timeout (s)", key="timeout", min_value=1.0, value=settings.DEFAULT_TIMEOUT, step=10.0)
    st.number_input("Concurrency", key="concurrency", min_value=1, max_value=256, value=16)
    if st.button("Test connection"):
        _test()


def _test() -> None:
    try:
        chosen = state.model_settings()
    except RnrError as exc:
        st.error(esc(exc))
        return
    with st.spinner("Asking the model…"):
        result = asyncio.run(check_connection(chosen))
    if result["ok"]:
        st.success(esc(f"Connected to {result['spec']} in {result['latency_ms']} ms."))
    else:
        st.error(esc(result["error"]))
