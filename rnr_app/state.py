"""What the app holds per process (store, jobs) and per session (reviewer, model settings)."""

import threading

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from rnr_core import settings
from rnr_core.demo import seed_demo
from rnr_core.errors import RnrError
from rnr_core.jobs import JobRunner
from rnr_core.models.connection import MODES, ModelSettings
from rnr_core.preferences import PREFERENCES, personal_owner
from rnr_core.store import Store

_local = threading.local()
# Session key of the sidebar's kept settings (rnr_app/sidebar.py): restored from the store, saved on change.
KEPT = "_sidebar_kept"
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
        demo_problem[path] = exc.says("app")
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


def owner() -> str:
    """Whose preferences the sidebar restores and saves (personal mode: the OS user)."""
    return personal_owner()


def _chosen(name: str):
    """A sidebar setting: its field, else its kept value (a hidden field), else its default."""
    value = st.session_state.get(name)
    if value is None:
        value = st.session_state.get(KEPT, {}).get(name)
    return PREFERENCES[name].default() if value is None else value


def reviewer() -> str:
    """The name stored with every review action (set in the sidebar, remembered across visits)."""
    return _chosen("reviewer") or PREFERENCES["reviewer"].default()


def model_settings() -> ModelSettings:
    """The model the sidebar describes; pages pass its spec to the core."""
    return ModelSettings(
        spec=_chosen("model_spec"),
        base_url=_chosen("base_url"),
        model=_chosen("endpoint_model"),
        key_env=_chosen("key_env"),
        timeout=_chosen("timeout"),
        concurrency=_chosen("concurrency"),
        endpoint=_chosen("model_mode") == MODES[1],
    )


def active_spec() -> str:
    """The spec work goes to, credentials masked, or what is missing from the sidebar's settings."""
    try:
        return model_settings().shown_spec()
    except RnrError as exc:
        return f"not set: {exc}"
