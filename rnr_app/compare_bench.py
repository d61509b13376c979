"""The Compare page's benchmark mode: start an evaluation or comparison, watch it, read the summary, and
vote blind over the stored answers of two models (compare_blind)."""

import streamlit as st

from rnr_app import compare_blind, compare_board, compare_charts, compare_models, login, state, widgets
from rnr_app.widgets import esc
from rnr_core.errors import RnrError
from rnr_core.evaluate import summary
from rnr_core.evaluate.benchmark import benchmarks
from rnr_core.models.connection import use_model
from rnr_core.models.names import team_names

JOB = "bench_job"


def render() -> None:
    store = state.store()
    listed = {b["name"]: b for b in benchmarks(store)}
    if not listed:
        st.info(
            "No benchmarks yet. Freeze one from a run, a dataset or a file with 'rnr benchmark freeze NAME', "
            "or take IFEval's prompts with 'rnr eval --ifeval --model local --limit 20'."
        )
        return
    name = st.selectbox(
        "Benchmark",
        list(listed),
        format_func=lambda n: f"{n} · {listed[n]['items']:,} items · {listed[n]['source']}",
        key="bench_name",
    )
    start_controls(name)
    widgets.job_panel(JOB, f"Benchmark {name}")
    report = _summary(store, name)
    st.subheader("Vote blind on stored answers")
    compare_blind.blind_votes(store, name, report["models"], report["names"])


def start_controls(name: str) -> None:
    """Maintainers pick models and start an evaluation or a comparison; the judge is the sidebar's model."""
    if not state.may("evaluate"):
        login.cannot("evaluate", "starting evaluations and comparisons")
        return
    options = compare_models.choices()
    with st.form("bench_start"):
        picked = st.multiselect(
            "Models", list(options), ["local"], format_func=options.get, key="bench_models"
        )
        c = st.columns(3)
        limit = c[0].number_input("Items (0: all)", 0, 100_000, 0, 10)
        max_tokens = c[1].number_input(
            "Max tokens per answer",
            16,
            4096,
            256,
            16,
            help="For Evaluate. Compare reuses the answers each model's evaluation stored.",
        )
        c[2].caption(esc(f"Judge: {state.active_spec()} (the sidebar's model)"))
        c = st.columns(2)
        run_eval = c[0].form_submit_button("Evaluate", type="primary")
        run_compare = c[1].form_submit_button("Compare (pairwise judge)")
    if run_eval or run_compare:
        _start("eval" if run_eval else "compare", name, picked, int(limit) or None, int(max_tokens))


def _start(kind: str, name: str, picked: list[str], limit: int | None, max_tokens: int) -> None:
    try:
        started_by = state.acting("evaluate")
        models = [compare_models.spec_of(key) for key in picked]
        judge = use_model(state.model_settings()).spec
        params = {"benchmark": name, "models": models, "judge": judge, "limit": limit}
        if kind == "eval":
            params["max_tokens"] = max_tokens
        # A comparison reuses each model's evaluated answers (their settings) rather than answering again.
        elif len(set(models)) < 2:
            widgets.error("A comparison needs at least two different models.")
            return
        st.session_state[JOB] = state.jobs().start(kind, started_by=started_by, **params)
    except RnrError as exc:
        widgets.error(exc)
        return
    st.rerun()


def _summary(store, name: str) -> dict:
    """Pass rates, paired differences, the judge's calibration and the leaderboard for this benchmark."""
    try:
        report = summarised(store, name)
    except RnrError as exc:
        widgets.error(exc)
        return {"models": [], "names": {}}
    names = report["names"]
    st.subheader("Pass rate per model")
    if report["reports"]:
        for warning in report["warnings"]:
            st.warning(esc(warning))
        compare_charts.pass_rates(report["reports"], names)
        compare_charts.differences(report["differences"], names)
    else:
        st.info("No evaluations of this benchmark yet.")
    st.subheader("Leaderboard")
    compare_board.leaderboard(report["leaderboard"], "bench", names)
    return report


def summarised(store, name: str) -> dict:
    """The benchmark's summary, computed again only when an evaluation or vote was written since (the
    bootstraps take seconds, and the tab reruns on every vote and click)."""
    team = tuple(sorted(team_names().items()))  # the names shown depend on the operator's file
    tuned = compare_models.known_fine_tunes()  # and on the fine-tunes registered
    return _cached(store.path, store.compare_token(), name, team, tuned)


@st.cache_data(max_entries=8, show_spinner="Summarising the benchmark…")
def _cached(path: str, token: tuple, name: str, team: tuple, tuned: tuple) -> dict:
    return summary.benchmark_summary(state.store(), name)
