"""Home: the store at a glance, in charts of SQL aggregates."""

import plotly.express as px
import streamlit as st

from rnr_app import state, widgets
from rnr_core.home import dashboard

HEIGHT = 320
PERIOD_FORMAT = {"hour": "%Y-%m-%d %H:00", "day": "%Y-%m-%d"}


def _rate_chart(rates: dict, field: str, title: str):
    """Pass rate per group with its 95% interval as error bars."""
    data = [
        {
            field: name,
            "pass rate": r["rate"],
            "plus": r["ci95"][1] - r["rate"],
            "minus": r["rate"] - r["ci95"][0],
            "rules judged": r["n"],
        }
        for name, r in rates.items()
        if r["rate"] is not None
    ]
    fig = px.bar(
        data,
        x=field,
        y="pass rate",
        error_y="plus",
        error_y_minus="minus",
        hover_data=["rules judged"],
        title=title,
        range_y=[0, 1],
    )
    return fig.update_layout(height=HEIGHT)


def _charts(d: dict) -> None:
    c = st.columns(2)
    by_status = [{"status": k, "samples": v} for k, v in d["samples_by_status"].items()]
    c[0].plotly_chart(
        px.bar(by_status, x="status", y="samples", title="Samples by status").update_layout(height=HEIGHT)
    )
    over_time = d["samples_over_time"]
    if over_time["rows"]:
        fig = px.bar(
            over_time["rows"],
            x="period",
            y="samples",
            color="run_status",
            title=f"Samples generated per {over_time['bucket']}, by run status",
        )
        c[1].plotly_chart(fig.update_layout(height=HEIGHT).update_xaxes(type="category"))
    c = st.columns(2)
    if d["pass_rate_by_category"]:
        c[0].plotly_chart(_rate_chart(d["pass_rate_by_category"], "category", "Pass rate by rule category"))
    if d["pass_rate_by_kind"]:
        c[1].plotly_chart(_rate_chart(d["pass_rate_by_kind"], "kind", "Pass rate by rule kind"))
    if d["reject_reasons"]:
        rows = [
            {
                "reason": r["reason"] or "unspecified",
                "rejected": r["count"],
                "templates": f"{r['system_prompt_template']} / {r['template']}",
            }
            for r in d["reject_reasons"]
        ]
        fig = px.bar(
            rows,
            x="reason",
            y="rejected",
            color="templates",
            barmode="group",
            title="Reject reasons per prompt-template version (system prompt / response)",
        )
        st.plotly_chart(fig.update_layout(height=HEIGHT))


def _runs(runs: list[dict]) -> None:
    st.subheader("Latest runs")
    if not runs:
        st.info("No runs yet: start one on the Generate page.")
        return
    from rnr_core import run_words
    from rnr_core.runs import live_runs, run_states

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


def render(store, jobs) -> None:
    st.title("RNR Studio")
    st.caption(widgets.esc(f"Model: {state.active_spec()} · Store: {state.db_path()}"))
    if store.path in state.demo_problem:
        st.warning(widgets.esc("The demo could not start: " + state.demo_problem[store.path]))
    d = _dashboard(store.path, store.change_token())
    c = st.columns(4)
    counts = d["samples_by_status"]
    c[0].metric("Samples", sum(counts.values()))
    for col, status in zip(c[1:], ("pending", "accepted", "rejected")):
        col.metric(status.capitalize(), counts.get(status, 0))
    if any(j["status"] == "running" for j in jobs.list()):  # no polling while nothing runs
        _live_jobs(jobs)
    _charts(d)
    _runs(d["latest_runs"])
