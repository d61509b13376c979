"""RNR Studio: the store at a glance, and the pages where researchers work."""

import streamlit as st

from rnr_app import login, sidebar, state
from rnr_app.widgets import esc
from rnr_core.errors import StoreError

st.set_page_config(page_title="RNR Studio", layout="wide")


def home() -> None:
    """Home: what is in the store, in charts built from SQL aggregates."""
    from rnr_app.home import render

    render(state.store(), state.jobs())


# Each page, and the action that makes it worth offering: a role that may not, does not see it.
PAGES = [
    (st.Page(home, title="Home", icon=":material/home:", default=True), "read"),
    (st.Page("pages/generate.py", title="Generate", icon=":material/play_circle:"), "generate"),
    (st.Page("pages/review.py", title="Review", icon=":material/rate_review:"), "read"),
    (st.Page("pages/audit.py", title="Judge audit", icon=":material/balance:"), "read"),
    (st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"), "read"),
    (st.Page("pages/adjudicate.py", title="Adjudicate", icon=":material/gavel:"), "adjudicate"),
    (st.Page("pages/export.py", title="Export", icon=":material/download:"), "export"),
    (st.Page("pages/train.py", title="Train", icon=":material/model_training:"), "train"),
]

identity = login.gate([page.url_path for page, _ in PAGES])
try:
    state.store()
except StoreError as exc:  # another process holds the file, or it is not a store
    st.error(esc(exc))
    st.stop()

sidebar.draw(identity)
try:
    st.navigation([page for page, action in PAGES if state.may(action)]).run()
except Exception as exc:  # a store cut short fails only the query that reads a missing block
    damage = state.store().damage(exc)
    if damage is None:
        raise
    st.error(esc(damage))
