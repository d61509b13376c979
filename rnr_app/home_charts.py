"""Home's charts: plotly figures of the dashboard's aggregates, drawn to be read at a glance."""

import plotly.express as px
import plotly.graph_objects as go

from rnr_core.home import BUCKETS, percent

HEIGHT = 320
BAR_PX = 30  # per bar of a horizontal chart, so long labels never crowd
# The marker at each pass rate: visible at 0, where the bar has no length.
MARKER = {"symbol": "diamond", "size": 10, "color": "#31333f"}
# Per time bucket: the axis's tick labels (never finer than the bucket) and the hover's time.
TIME_FORMAT = {
    "second": ("%H:%M:%S", "%H:%M:%S, %b %d %Y"),
    "minute": ("%H:%M<br>%b %d", "%H:%M, %b %d %Y"),
    "hour": ("%H:00<br>%b %d", "%H:00, %b %d %Y"),
    "day": ("%b %d<br>%Y", "%b %d, %Y"),
}
FEW_BARS = 12  # up to this many buckets, one tick per bucket


def rate_chart(rates: dict, title: str):
    """Pass rate per group as a percentage, horizontal so long names fit; the 95% interval as error
    bars and in the hover, a marker at the rate and its label at the right, so a rate of 0 still shows."""
    named = ((k if k is not None else "(none)", r) for k, r in rates.items() if r["rate"] is not None)
    rows = sorted(named, key=lambda row: str(row[0]), reverse=True)
    names, stats = [k for k, _ in rows], [r for _, r in rows]
    rate = [r["rate"] for r in stats]
    hover = [
        f"{percent(r['rate'])} pass (95% CI {percent(r['ci95'][0])}–{percent(r['ci95'][1])})<br>"
        f"{r['passes']:,} of {r['n']:,} rules judged passed"
        for r in stats
    ]
    error = {
        "type": "data",
        "symmetric": False,
        "array": [r["ci95"][1] - r["rate"] for r in stats],
        "arrayminus": [r["rate"] - r["ci95"][0] for r in stats],
    }
    fig = go.Figure(
        [
            go.Bar(x=rate, y=names, orientation="h", error_x=error, hovertext=hover, hoverinfo="y+text"),
            go.Scatter(x=rate, y=names, mode="markers", marker=MARKER, hoverinfo="skip"),
        ]
    )
    for name, r in zip(names, rate):  # each rate written at the right, clear of bars and intervals
        fig.add_annotation(
            x=1, xref="x domain", y=name, text=percent(r), showarrow=False, xanchor="left", xshift=6
        )
    fig.update_layout(
        title=title, height=max(HEIGHT, 110 + BAR_PX * len(rows)), showlegend=False, margin={"r": 60}
    )
    fig.update_xaxes(range=[0, 1], tickformat=".0%", title="share of judged rules that pass")
    return fig.update_yaxes(automargin=True, title=None)


def over_time_chart(over_time: dict):
    """Samples per time bucket, stacked by run status, on a time axis with the bucket's width."""
    bucket, width_ms = over_time["bucket"], BUCKETS[over_time["bucket"]].total_seconds() * 1000
    fig = px.bar(
        over_time["rows"],
        x="period",
        y="samples",
        color="run_status",
        title=f"Samples generated per {bucket}, by run status",
        labels={"period": f"time (per {bucket})", "run_status": "run status"},
    )
    ticks, when = TIME_FORMAT[bucket]
    fig.update_traces(
        xperiod=width_ms,
        xperiodalignment="middle",
        width=0.8 * width_ms,  # a lone bar would otherwise be drawn a hair wide
        hovertemplate=f"%{{x|{when}}}<br>%{{y:,}} samples<extra>%{{fullData.name}}</extra>",
    )
    periods = {r["period"] for r in over_time["rows"]}
    if len(periods) <= FEW_BARS:  # a tick per bucket, and a bucket's room either side of the bars
        size = BUCKETS[bucket]
        fig.update_xaxes(dtick=width_ms, range=[min(periods) - size, max(periods) + 2 * size])
    fig.update_xaxes(tickformat=ticks)
    per_period: dict = {}
    for r in over_time["rows"]:
        per_period[r["period"]] = per_period.get(r["period"], 0) + r["samples"]
    return _count_axis(fig, max(per_period.values(), default=0))


def reasons_chart(reasons: list[dict]):
    """Rejections per reason (by its label), grouped by the templates that made the samples."""
    rows = [
        {
            "reason": r["label"],
            "rejected": r["count"],
            "templates": f"{r['system_prompt_template']} / {r['template']}",
        }
        for r in reasons
    ]
    fig = px.bar(
        rows,
        x="rejected",
        y="reason",
        color="templates",
        orientation="h",
        barmode="group",
        title="Reject reasons per prompt-template version (system prompt / response)",
    )
    fig.update_traces(hovertemplate="%{y}: %{x:,} rejected<extra>%{fullData.name}</extra>")
    bars = len({r["reason"] for r in rows}) * len({r["templates"] for r in rows})
    fig.update_layout(height=max(HEIGHT, 110 + BAR_PX * bars))
    return fig.update_xaxes(tickformat=",").update_yaxes(automargin=True, title=None)


def status_chart(counts: dict):
    """Samples per review status."""
    rows = [{"status": k, "samples": v} for k, v in counts.items()]
    fig = px.bar(rows, x="status", y="samples", title="Samples by status")
    fig.update_traces(hovertemplate="%{x}: %{y:,} samples<extra></extra>")
    return _count_axis(fig, max(counts.values(), default=0))


def _count_axis(fig, top: int):
    """A y axis of whole samples: thousands separated, from zero, and no 0.5 ticks on small counts."""
    fig.update_layout(height=HEIGHT).update_yaxes(tickformat=",", rangemode="nonnegative")
    return fig.update_yaxes(dtick=1) if top <= 5 else fig
