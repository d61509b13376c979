"""The Compare page's summary: leaderboard, win rates and pass rates with their 95% intervals (plotly)."""

import plotly.graph_objects as go
import streamlit as st

from rnr_app.widgets import esc

COUNTS = {"Votes": st.column_config.NumberColumn(format="localized")}


def _interval_chart(names: list[str], values: list[float], cis: list, title: str, x_title: str):
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


def leaderboard(board: dict, key: str) -> None:
    """Bradley-Terry ratings with CIs and the win rates behind them; says so when nobody has voted."""
    rows = board.get("bradley_terry") or []
    if not rows:
        st.info("No votes yet: vote on a pair of answers, or run a comparison, and the leaderboard appears.")
        return
    fig = _interval_chart(
        [r["model"] for r in rows],
        [r["rating"] for r in rows],
        [r["ci95"] for r in rows],
        "Bradley-Terry rating (Elo-like scale, 95% bootstrap interval)",
        "rating",
    )
    st.plotly_chart(fig, key=f"{key}-bt")
    rates = board.get("win_rates") or {}
    table = [
        {
            "Rank": r["rank"],
            "Model": r["model"],
            "Rating": round(r["rating"]),
            "Win rate": rates.get(r["model"], {}).get("rate"),
            "Wins": rates.get(r["model"], {}).get("wins"),
            "Losses": rates.get(r["model"], {}).get("losses"),
            "Ties": rates.get(r["model"], {}).get("ties"),
            "Votes": r["n"],
        }
        for r in rows
    ]
    config = {**COUNTS, "Win rate": st.column_config.NumberColumn(format="percent")}
    st.dataframe(table, hide_index=True, column_config=config, key=f"{key}-table")
    st.caption(esc(_counts_line(board)))


def _counts_line(board: dict) -> str:
    """How many votes the board rests on, and the failed LLM votes it leaves out."""
    votes = board.get("votes") or {}
    parts = [f"{n:,} {who}" for who, n in votes.items() if isinstance(n, int)]
    failed = board.get("failed_votes") or 0
    line = "Votes: " + (", ".join(parts) if parts else "none")
    if failed:
        line += f" · {failed:,} LLM judge replies never parsed (left out, retried on the next run)"
    return line + ". Ties and 'both bad' count as half a win each way."


def pass_rates(reports: dict[str, dict]) -> None:
    """Pass rate per model with its interval, and the pass rate over checkable rules alone."""
    names = list(reports)
    overall = [reports[m]["pass_rate"] for m in names]
    fig = _interval_chart(
        names,
        [r["rate"] or 0.0 for r in overall],
        [r["ci95"] for r in overall],
        "Pass rate: all rules followed (95% interval)",
        "pass rate",
    )
    fig.update_xaxes(range=[0, 1], tickformat=".0%")
    st.plotly_chart(fig, key="pass-rates")
    rows = [
        {
            "Model": m,
            "Pass rate": r["pass_rate"]["rate"],
            "Checkable rules only": (r.get("verifiable_pass_rate") or {}).get("rate"),
            "Answered": r.get("answered"),
            "Failed": r.get("failed"),
            "Rests on an untrusted judge": "yes" if r.get("rests_on_untrusted_judge") else "",
        }
        for m, r in reports.items()
    ]
    percent = st.column_config.NumberColumn(format="percent")
    st.dataframe(rows, hide_index=True, column_config={"Pass rate": percent, "Checkable rules only": percent})


def differences(rows: list[dict]) -> None:
    """Paired differences in pass rate, with the bootstrap interval and McNemar's exact p."""
    if not rows:
        return
    st.dataframe(
        [
            {
                "Pair": f"{d['model_a']} − {d['model_b']}",
                "Difference": d["diff"],
                "95% interval": _interval(d["ci95"]),
                "McNemar p": d["mcnemar_p"],
                "Items": d["n"],
            }
            for d in rows
        ],
        hide_index=True,
        column_config={"Difference": st.column_config.NumberColumn(format="%+.3f")},
    )


def _interval(ci) -> str:
    return f"{ci[0]:+.3f} to {ci[1]:+.3f}" if ci else "–"
