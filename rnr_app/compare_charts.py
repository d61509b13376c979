"""The Compare page's pass rates and paired differences, with their 95% intervals (plotly and tables)."""

import plotly.graph_objects as go
import streamlit as st

from rnr_app.widgets import interval

COUNTS = {"Votes": st.column_config.NumberColumn(format="localized")}
NO_VERDICTS = "no verdicts yet"


def interval_chart(names: list[str], values: list[float], cis: list, title: str, x_title: str):
    """Dots with 95% error bars, best at the top: the one chart shape every summary uses."""
    low = [v - (ci[0] if ci else v) for v, ci in zip(values, cis)]
    high = [(ci[1] if ci else v) - v for v, ci in zip(values, cis)]
    fig = go.Figure(
        go.Scatter(
            x=values,
            y=names,
            mode="markers",
            marker={"size": 11},
            error_x={"type": "data", "symmetric": False, "array": high, "arrayminus": low},
        )
    )
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_layout(title=title, xaxis_title=x_title, height=140 + 40 * len(names), margin={"l": 10})
    return fig


def _rate(r: dict | None) -> str:
    """A rate with its interval and count, or that nothing is decided yet (never a 0% it does not have)."""
    if not r or r.get("rate") is None:
        return NO_VERDICTS
    ci = r.get("ci95")
    shown = f"{r['rate']:.0%}" + (f" ({ci[0]:.0%} to {ci[1]:.0%})" if ci else "")
    return shown + f" of {r['n']:,}" if r.get("n") is not None else shown


def _judge_note(r: dict) -> str:
    if r.get("rests_on_untrusted_judge"):
        return "untrusted"
    return "not calibrated" if r.get("rests_on_uncalibrated_judge") else ""


def pass_rates(reports: dict[str, dict], names: dict[str, str]) -> None:
    """Pass rate per model with its interval (models with no decided item left out of the chart), and
    the pass rate over checkable rules alone."""
    rated = [m for m, r in reports.items() if (r.get("pass_rate") or {}).get("rate") is not None]
    if rated:
        fig = interval_chart(
            [names.get(m, m) for m in rated],
            [reports[m]["pass_rate"]["rate"] for m in rated],
            [reports[m]["pass_rate"]["ci95"] for m in rated],
            "Pass rate: all rules followed (95% interval)",
            "pass rate",
        )
        fig.update_xaxes(range=[0, 1], tickformat=".0%")
        st.plotly_chart(fig, key="pass-rates")
    rows = [
        {
            "Model": names.get(m, m),
            "Pass rate (95% interval)": _rate(r.get("pass_rate")),
            "Checkable rules only": _rate(r.get("verifiable_pass_rate")),
            "Answered": r.get("answered"),
            "Failed": r.get("failed"),
            "Judge": _judge_note(r),
        }
        for m, r in reports.items()
    ]
    st.dataframe(rows, hide_index=True, key="pass-rate-table")


def differences(rows: list[dict], names: dict[str, str]) -> None:
    """Paired differences in pass rate, with the bootstrap interval and McNemar's exact p."""
    if not rows:
        return
    st.dataframe(
        [
            {
                "Pair": f"{names.get(d['model_a'], d['model_a'])} − {names.get(d['model_b'], d['model_b'])}",
                "Difference": d["diff"],
                "95% interval": interval(d["ci95"], signed=True),
                "McNemar p": d["mcnemar_p"],
                "Items": d["n"],
            }
            for d in rows
        ],
        hide_index=True,
        column_config={"Difference": st.column_config.NumberColumn(format="%+.3f")},
    )
