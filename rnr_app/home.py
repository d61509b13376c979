"""Home: the store at a glance, in charts of SQL aggregates."""

import plotly.express as px
import streamlit as st

from rnr_app import state, widgets
from rnr_core.home import dashboard

CHART_HEIGHT = 320


def _rate_chart(rows: list[dict], field: str, title: str):
    """Pass rate per group with its 95% interval as error bars."""
    data = [
        {
            field: r[field],
            "pass rate": r["rate"],
            "plus": r["ci95"][1] - r["rate"],
            "minus": r["rate"] - r["ci95"][0],
            "rules judged": r["n"],
        }
        for r in rows
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
    return fig.update_layout(height=CHART_HEIGHT)


def _charts(d: dict) -> None:
    c = st.columns(2)
    by_status = [{"status": k, "samples": v} for k, v in d["by_status"].items()]
    c[0].plotly_chart(
        px.bar(by_status, x="status", y="samples", title="Samples by status").update_layout(
            height=CHART_HEIGHT
        )
    )
    if d["runs_over_time"]:
        c[1].plotly_chart(
            px.bar(
                d["runs_over_time"],
                x="day",
                y="samples",
                color="status",
                title="Samples generated per day, by run status",
            ).update_layout(height=CHART_HEIGHT)
        )
    c = st.columns(2)
    if d["pass_by_category"]:
        c[0].plotly_chart(_rate_chart(d["pass_by_category"], "category", "Pass rate by rule category"))
    if d["pass_by_kind"]:
        c[1].plotly_chart(_rate_chart(d["pass_by_kind"], "kind", "Pass rate by rule kind"))
    if d["reject_reasons"]:
        st.plotly_chart(
            px.bar(
                d["reject_reasons"],
                x="reason",
                y="count",
                color="template",
                barmode="group",
                title="Reject reasons per prompt-template version",
            ).update_layout(height=CHART_HEIGHT)
        )


def _runs(d: dict) -> None:
    st.subheader("Latest runs")
    st.dataframe(
        [
            {
                "run": r["id"],
                "dataset": r["dataset"],
                "model": r["model"],
                "status": r["status"],
                "samples": r["counts"].get("samples", 0),
                "done": r["counts"].get("done", 0),
                "failed": r["counts"].get("failed", 0),
                "started": r["created_at"],
            }
            for r in d["latest_runs"]
        ],
        hide_index=True,
    )


@st.fragment(run_every="2s")
def _live_jobs(jobs) -> None:
    running = [j for j in jobs.list() if j["status"] == "running"]
    for job in running:
        st.progress(
            min(1.0, job["progress"]["done"] / job["progress"]["total"]) if job["progress"]["total"] else 0.0,
            text=f"{job['kind']} {job['params'].get('run_id', '')}: "
            + widgets.progress_line(job["progress"]),
        )


def render(store, jobs) -> None:
    st.title("RNR Studio")
    st.caption(f"Model: {state.active_spec()} · Store: {state.db_path()}")
    d = dashboard(store)
    c = st.columns(4)
    c[0].metric("Samples", sum(d["by_status"].values()))
    c[1].metric("Accepted", d["by_status"].get("accepted", 0))
    c[2].metric("Rejected", d["by_status"].get("rejected", 0))
    c[3].metric("Failed items", d.get("failed_items", 0))
    _live_jobs(jobs)
    _charts(d)
    _runs(d)
