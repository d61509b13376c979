"""What the app holds per process (store, jobs) and per session (reviewer, model settings)."""

import getpass
import threading

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from rnr_core import settings
from rnr_core.demo import seed_demo
from rnr_core.errors import RnrError
from rnr_core.jobs import JobRunner
from rnr_core.models.connection import ModelSettings
from rnr_core.store import Store

_local = threading.local()
_opened: list[tuple[Store, JobRunner]] = []
# Why the demo could not be set up on an empty store (Home shows it); the store itself still opens.
demo_problem: dict[str, str] = {}


@st.cache_resource(show_spinner="Opening the store…")
def _open(path: str) -> tuple[Store, JobRunner]:
    """One store and one job runner per process; an empty store gets the demo data."""
    store = Store(path)
    jobs = JobRunner(store)
    try:
        seed_demo(store, jobs)
    except RnrError as exc:
        demo_problem[path] = str(exc)
    _opened.append((store, jobs))
    return store, jobs


def close_all() -> None:
    """Cancel running jobs and close every store this process opened, then forget them."""
    while _opened:
        store, jobs = _opened.pop()
        for job in jobs.list():
            if job["status"] == "running":
                jobs.cancel(job["id"])
                jobs.wait(job["id"], 30)
        store.close()
    st.cache_resource.clear()


def db_path() -> str:
    return settings.db_path()


_rerouted = False


def _through_app() -> None:
    """Run app.py (sidebar, navigation) even when a new server's first visit deep-links to a page.

    Until some run calls st.navigation, Streamlit treats pages/ as an old-style multipage folder and
    runs the linked page file alone; switching that mode off and rerunning goes through app.py.
    """
    global _rerouted
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        if not _rerouted:  # the mode is on only at process start (AppTest turns it on for every run)
            _rerouted = True
            st.rerun()


def store() -> Store:
    """This thread's view of the store: DuckDB cursors must not cross threads."""
    _through_app()
    base, _ = _open(db_path())
    view = getattr(_local, "store", None)
    if view is None or getattr(_local, "base", None) is not base:
        _local.store, _local.base = base.for_thread(), base
    return _local.store


def jobs() -> JobRunner:
    return _open(db_path())[1]


def reviewer() -> str:
    """The name stored with every review action (set in the sidebar)."""
    return st.session_state.get("reviewer") or getpass.getuser()


def model_settings() -> ModelSettings:
    """The model the sidebar describes; pages pass its spec to the core."""
    state = st.session_state
    common = {
        "key_env": state.get("key_env", "OPENAI_API_KEY"),
        "timeout": state.get("timeout", settings.DEFAULT_TIMEOUT),
        "concurrency": state.get("concurrency", 16),
    }
    if state.get("model_mode", "Spec") == "Spec":
        return ModelSettings(spec=state.get("model_spec", settings.DEFAULT_MODEL), **common)
    return ModelSettings(base_url=state.get("base_url", ""), model=state.get("endpoint_model", ""), **common)


def active_spec() -> str:
    """The spec work goes to, or what is missing from the sidebar's settings."""
    try:
        return model_settings().resolved_spec()
    except RnrError as exc:
        return f"not set ({exc})"
