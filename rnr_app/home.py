"""Home: the store at a glance, in charts of SQL aggregates, following the store while jobs run."""

import time

import streamlit as st

from rnr_app import state, widgets
from rnr_app.home_charts import over_time_chart, rate_chart, reasons_chart, status_chart
from rnr_core import run_words
from rnr_core.demo import home_line
from rnr_core.home import dashboard
from rnr_core.runs import live_runs, run_states

# Seconds between Home's checks of whether the store or the running jobs moved. A check reads the
# store's change token (milliseconds) and draws nothing; the page reruns only when something moved.
# Quicker while a job runs in this process, since something then usually has.
POLL_S = {True: 1.0, False: 3.0}
# While a job keeps moving the token, a redraw waits this many times as long as the last one took,
# so Home at a million samples (half a second a draw) leaves the cores to the job. A job starting
# or ending redraws at once.
REDRAW_WAIT = 4
_DRAWN = "home_drawn"  # session_state: the (token, running jobs) the page was last drawn from
_DUE = "home_redraw_due"  # session_state: the time.monotonic() before which a token change waits


def _charts(d: dict) -> None:
    c = st.columns(2)
    c[0].plotly_chart(status_chart(d["samples_by_status"]))
    if d["samples_over_time"]["rows"]:
        c[1].plotly_chart(over_time_chart(d["samples_over_time"]))
    c = st.columns(2)
    if d["pass_rate_by_category"]:
        c[0].plotly_chart(rate_chart(d["pass_rate_by_category"], "Pass rate by rule category"))
    if d["pass_rate_by_kind"]:
        c[1].plotly_chart(rate_chart(d["pass_rate_by_kind"], "Pass rate by rule kind"))
    if d["reject_reasons"]:
        st.plotly_chart(reasons_chart(d["reject_reasons"]))


def _runs(runs: list[dict]) -> None:
    st.subheader("Latest runs")
    if not runs:
        st.info("No runs yet: start one on the Generate page.")
        return
    # The same account of each run as the Generate page and `rnr runs` give (rnr_core.runs).
    found = run_states(state.store(), live_runs(state.jobs()), run_ids=[r["id"] for r in runs])
    st.dataframe([run_words.table_row(s) for s in found], hide_index=True)
    st.caption(widgets.esc(run_words.ITEMS_EXPLAINED))


@st.fragment(run_every="2s")
def _live_jobs(jobs) -> None:
    for job in (j for j in jobs.list() if j["status"] == "running"):
        p = job["progress"]
        label = f"{job['kind']} {job['params'].get('run_id', '')}: {widgets.progress_line(p)}"
        st.progress(min(1.0, p["done"] / p["total"]) if p["total"] else 0.0, text=label)


@st.cache_data(max_entries=4, show_spinner=False)
def _dashboard(path: str, token: tuple) -> dict:
    """The aggregates, computed again only when the store has changed (token) since the last visit."""
    return dashboard(state.store())


def _now(store, jobs) -> tuple:
    """What the page is drawn from: the store's change token and the ids of the jobs running here."""
    return store.change_token(), tuple(sorted(j["id"] for j in jobs.list() if j["status"] == "running"))


def _watch(jobs) -> None:
    """Redraw the page once the store or the running jobs moved since it was drawn (a job's samples,
    its end, a review in another tab); nothing is drawn, and nothing rerun, while nothing moved."""
    now, drawn = _now(state.store(), jobs), st.session_state.get(_DRAWN)
    if drawn is None or now[1] != drawn[1] or (now != drawn and time.monotonic() >= st.session_state[_DUE]):
        st.rerun()


def render(store, jobs) -> None:
    started = time.monotonic()
    st.title("RNR Studio")
    st.caption(widgets.esc(state.where()))
    if demo := home_line(store):
        st.info(widgets.esc(demo))
    if store.path in state.demo_problem:
        st.warning(widgets.esc("The demo could not start: " + state.demo_problem[store.path]))
    # Read before the figures, so a write landing while they are drawn is caught by the next check.
    now = st.session_state[_DRAWN] = _now(store, jobs)
    d = _dashboard(store.path, now[0])
    c = st.columns(4)
    counts = d["samples_by_status"]
    c[0].metric("Samples", f"{sum(counts.values()):,}")
    for col, status in zip(c[1:], ("pending", "accepted", "rejected")):
        col.metric(status.capitalize(), f"{counts.get(status, 0):,}")
    if now[1]:  # progress bars poll only while something runs
        _live_jobs(jobs)
    _charts(d)
    _runs(d["latest_runs"])
    st.session_state[_DUE] = time.monotonic() + REDRAW_WAIT * (time.monotonic() - started)
    st.fragment(_watch, run_every=POLL_S[bool(now[1])])(jobs)
