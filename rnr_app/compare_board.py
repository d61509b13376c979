"""The Compare page's leaderboard: Bradley-Terry ratings and win rates with their 95% intervals, the win
rates per rule category, and how far each LLM judge agrees with people (plotly and compact tables)."""

import streamlit as st

from rnr_app.compare_charts import COUNTS, interval_chart
from rnr_app.widgets import esc, interval, kappa

PERCENT = st.column_config.NumberColumn(format="percent")


def leaderboard(board: dict, key: str, names: dict[str, str]) -> None:
    """Bradley-Terry ratings with CIs and the win rates behind them; says so when nobody has voted.
    `names` maps each stored spec to the name shown."""
    rows = board.get("bradley_terry") or []
    if not rows:
        st.info("No votes yet: vote on a pair of answers, or run a comparison, and the leaderboard appears.")
        return
    name = lambda spec: names.get(spec, spec)  # noqa: E731
    fig = interval_chart(
        [name(r["model"]) for r in rows],
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
            "Model": name(r["model"]),
            "Rating": round(r["rating"]),
            "Win rate": rates.get(r["model"], {}).get("rate"),
            "95% interval": interval(rates.get(r["model"], {}).get("ci95"), percent=True),
            "Wins": rates.get(r["model"], {}).get("wins"),
            "Losses": rates.get(r["model"], {}).get("losses"),
            "Ties": rates.get(r["model"], {}).get("ties"),
            "Votes": r["n"],
        }
        for r in rows
    ]
    st.dataframe(table, hide_index=True, column_config={**COUNTS, "Win rate": PERCENT}, key=f"{key}-table")
    if len({r.get("group", 0) for r in rows}) > 1:
        st.caption(
            "Some models never met, directly or through others: compare ratings only within a group "
            "of models that did."
        )
    st.caption(esc(_counts_line(board)))
    _categories(board.get("categories") or {}, name, key)
    _judge_human(board.get("judge_human") or {}, name)


def _counts_line(board: dict) -> str:
    """How many votes the board rests on, and the failed LLM votes it leaves out."""
    votes = board.get("votes") or {}
    parts = [f"{n:,} {who}" for who, n in votes.items() if isinstance(n, int)]
    failed = board.get("failed_votes") or 0
    line = "Votes: " + (", ".join(parts) if parts else "none")
    if failed:
        line += f" · {failed:,} LLM judge replies never parsed (left out, retried on the next run)"
    return line + ". Ties and 'both bad' count as half a win each way."


def _categories(categories: dict, name, key: str) -> None:
    """Win rate per rule category, one column per model, folded away: the headline is the board above."""
    if not categories:
        return
    models = sorted({m for rates in categories.values() for m in rates})
    rows = [
        {"Category": cat, **{name(m): rates[m]["rate"] for m in models if m in rates}}
        for cat, rates in categories.items()
    ]
    with st.expander("Win rate per rule category"):
        config = {name(m): PERCENT for m in models}
        st.dataframe(rows, hide_index=True, column_config=config, key=f"{key}-categories")


def _judge_human(agreement: dict, name) -> None:
    """Each LLM judge's agreement with people on the same answers, when both have voted on them."""
    for judge, r in agreement.items():
        if not r.get("n"):
            continue
        line = (
            f"{name(judge)} agrees with people on {r['accuracy']:.0%} of {r['n']:,} shared votes "
            f"(kappa {kappa(r)}, 95% interval {interval(r.get('kappa_ci95'))})."
        )
        (st.warning if r.get("trustworthy") is False else st.caption)(esc(line))
