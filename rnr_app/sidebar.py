"""The sidebar every page shares: who is reviewing, and which model the work goes to.

Both are remembered per person in the store: restored on a new visit (a reload, a restarted
server), saved the moment they change. A value that is refused (a credential, an empty name) is
never kept, not even in the field: the previous one comes back, with the reason under the field.
In team mode the reviewer is the login and the model one of the operator's, picked by name.
"""

import asyncio

import streamlit as st

from rnr_app import login, state
from rnr_app.widgets import esc
from rnr_core import access, preferences
from rnr_core.access import Identity
from rnr_core.errors import RnrError
from rnr_core.models.connection import MODES, check_connection
from rnr_core.secrets import scrub

KEPT = state.KEPT
# Session keys: the names changed since the last save, and why a change was refused.
CHANGED, REFUSED = "_sidebar_changed", "_sidebar_refused"


def draw(identity: Identity) -> None:
    _restore()
    _save()
    with st.sidebar:
        if state.team():
            _team(identity)
            return
        _field(st.text_input, "reviewer", help="Stored with every action.")
        with st.expander("Model", expanded=False):
            _model_settings()
        st.caption(esc(f"Work goes to: {state.active_spec()}"))
        st.caption(esc(f"Store: {state.db_path()}"))


def _team(identity: Identity) -> None:
    """Who is logged in; for those who may run models, the operator's models by name (no URL, key
    variable or path to type)."""
    login.account(identity)
    if not (access.may(identity, "generate") or access.may(identity, "judge")):
        return
    names = list(access.config().models)
    _field(
        st.selectbox, "team_model", names, help="The operator's models; their endpoints are set up by them."
    )
    if st.button("Test connection"):
        _test()
    st.caption(esc(f"Work goes to: {state.active_spec()}"))


def _restore() -> None:
    """On a new visit, the stored settings (values the session already holds win)."""
    session = st.session_state
    if KEPT not in session:
        stored = preferences.load(state.store(), state.owner())
        session[KEPT] = {name: session.get(name, value) for name, value in stored.items()}


def _keep(name: str) -> None:
    """Keep a changed setting, or put back the previous one if it is refused, and say why."""
    session, refused = st.session_state, st.session_state.setdefault(REFUSED, {})
    try:
        session[KEPT][name] = preferences.check(name, session[name])
    except (RnrError, ValueError) as exc:
        session[name] = session[KEPT][name]
        refused[name] = f"{scrub(str(exc))} Not kept: the previous value is back."
    else:
        if session[name] != session[KEPT][name]:
            session[name] = session[KEPT][name]  # as kept: trimmed
        refused.pop(name, None)
        session.setdefault(CHANGED, set()).add(name)


def _save() -> None:
    """Store the settings kept since the last run (a callback runs before the page has the store)."""
    changed = st.session_state.pop(CHANGED, set())
    if changed:
        kept = st.session_state[KEPT]
        preferences.save(state.store(), state.owner(), {name: kept[name] for name in changed})


def _field(widget, name: str, *args, **options) -> None:
    """A remembered setting's widget, and the reason its last change was refused, if it was."""
    kept = st.session_state[KEPT][name]
    # The kept value as the widget's start: a field drawn anew (a new visit, a field that was hidden)
    # shows it; a field already drawn keeps what the user typed.
    choices = widget in (st.radio, st.selectbox)
    start = {"index": args[0].index(kept) if kept in args[0] else 0} if choices else {"value": kept}
    label = preferences.PREFERENCES[name].label
    widget(label, *args, key=name, on_change=_keep, args=(name,), **start, **options)
    why = st.session_state.get(REFUSED, {}).get(name)
    if why:
        st.error(esc(why))


def _model_settings() -> None:
    _field(st.radio, "model_mode", MODES, horizontal=True)
    if st.session_state[KEPT]["model_mode"] == MODES[0]:
        _field(
            st.text_input,
            "model_spec",
            help="local (embedded), openai:gpt-4o-mini, openai:<model>@<base-url>, hf:/path",
        )
    else:
        _field(st.text_input, "base_url", placeholder="http://127.0.0.1:8000/v1")
        _field(st.text_input, "endpoint_model", placeholder="gpt-4o-mini")
    _field(
        st.text_input,
        "key_env",
        help="The name of the environment variable that holds the key; the key itself is never stored.",
    )
    _field(st.number_input, "timeout", min_value=1.0, step=10.0)
    _field(st.number_input, "concurrency", min_value=1, max_value=256)
    if st.button("Test connection"):
        _test()


def _test() -> None:
    with st.spinner("Asking the model…"):
        result = asyncio.run(check_connection(state.model_settings()))
    if result["ok"]:
        st.success(esc(f"Connected to {scrub(result['spec'])} in {result['latency_ms']} ms."))
    else:
        st.error(esc(result["error"]))
