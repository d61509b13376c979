"""What the app holds per process (store, jobs) and per session (who acts, model settings)."""

import threading

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from rnr_app.admission import Refusal, admit
from rnr_core import access, settings
from rnr_core.access import Identity
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


def admission() -> Identity | Refusal:
    """Who acts in this run, or why nobody may: checked before any page reads the store."""
    _through_app()
    return admit(_chosen("reviewer"))


def identity() -> Identity:
    """Who acts in this run. A run that may not use the app stops here, showing nothing: app.py's gate
    has said why (a page reached without it, such as a deep link's first run, shows nothing at all)."""
    found = admission()
    if isinstance(found, Refusal):
        st.stop()
    return found


def may(action: str) -> bool:
    """Whether the acting identity may do `action`: what to draw, never the check itself (acting())."""
    return access.may(identity(), action)


def acting(action: str) -> str:
    """The name to record with `action`, checked at the moment it is done; Forbidden if the role may not."""
    return access.require(identity(), action).id


def store() -> Store:
    """This thread's view of the store: DuckDB cursors must not cross threads. Only for an admitted
    identity: a run that may not use the app stops before any data is read."""
    identity()
    base, _ = _open(db_path())
    view = getattr(_local, "store", None)
    if view is None or getattr(_local, "base", None) is not base:
        _local.store, _local.base = base.for_thread(), base
    return _local.store


def jobs() -> JobRunner:
    identity()
    return _open(db_path())[1]


def team() -> bool:
    """Whether the operator runs the app in team mode (login, roles, the operator's models only)."""
    return access.config().team


def owner() -> str:
    """Whose preferences the sidebar restores and saves: the login identity, in personal mode the OS user
    (not the reviewer name, which is itself one of those preferences)."""
    return identity().owner if team() else personal_owner()


def _chosen(name: str):
    """A sidebar setting: its field, else its kept value (a hidden field), else its default."""
    value = st.session_state.get(name)
    if value is None:
        value = st.session_state.get(KEPT, {}).get(name)
    return PREFERENCES[name].default() if value is None else value


def model_settings() -> ModelSettings:
    """The model the sidebar describes; pages pass its spec to the core. In team mode the operator's
    model the person picked by name, with the operator's endpoint, key variable and limits."""
    if team():
        return ModelSettings(team=_chosen("team_model"))
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
    """The spec work goes to, credentials masked, or what is missing from the sidebar's settings. In team
    mode the operator's model by name: its endpoint is the operator's business."""
    if team():
        return _chosen("team_model") or "none (the operator lists none)"
    try:
        return model_settings().shown_spec()
    except RnrError as exc:
        return f"not set: {exc}"


def where() -> str:
    """What the page says about where work goes and is kept: the store's path only in personal mode
    (a team's visitors have no business with the server's paths)."""
    model = f"Model: {active_spec()}"
    return model if team() else f"{model} · Store: {db_path()}"
