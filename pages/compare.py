"""Compare: models side by side on a typed prompt (the live demo) or on a frozen benchmark."""

import streamlit as st

from rnr_app import compare_answers, compare_bench, compare_live, compare_vote

st.title("Compare")
st.caption(
    "Put models side by side on one prompt or a whole benchmark, vote blind on which answer is better, "
    "and see pass rates and a leaderboard with their 95% intervals."
)
# Only the open tab runs: the live demo streams answers, the benchmark summary reads every stored vote.
live_tab, bench_tab = st.tabs(["Live demo", "Benchmark"], key="compare_tab", on_change="rerun")

if live_tab.open:
    with live_tab:
        compare_live.prompt_form()
        compare_answers.answers()
        compare_vote.vote_buttons()
        compare_vote.live_board()
if bench_tab.open:
    with bench_tab:
        compare_bench.render()
