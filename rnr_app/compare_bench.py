"""The Compare page's benchmark mode: start an evaluation or comparison, watch it, read the summary, and
vote blind over the stored answers of two models, item by item."""

import random

import streamlit as st

from rnr_app import compare_charts, compare_parts, login, state, widgets
from rnr_app.widgets import esc
from rnr_core.errors import RnrError
from rnr_core.evaluate import summary
from rnr_core.evaluate.benchmark import benchmarks
from rnr_core.models.connection import use_model

JOB = "bench_job"
BLIND = "bench_blind"  # session key: the pair, the item on show, its random sides, and the vote


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
    blind_votes(store, name, report["models"])


def start_controls(name: str) -> None:
    """Maintainers pick models and start an evaluation or a comparison; the judge is the sidebar's model."""
    if not state.may("evaluate"):
        login.cannot("evaluate", "starting evaluations and comparisons")
        return
    options = compare_parts.choices()
    with st.form("bench_start"):
        picked = st.multiselect("Models", list(options), ["local"], format_func=options.get)
        c = st.columns(3)
        limit = c[0].number_input("Items (0: all)", 0, 100_000, 0, 10)
        max_tokens = c[1].number_input("Max tokens per answer", 16, 4096, 256, 16)
        c[2].caption(esc(f"Judge: {state.active_spec()} (the sidebar's model)"))
        c = st.columns(2)
        run_eval = c[0].form_submit_button("Evaluate", type="primary")
        run_compare = c[1].form_submit_button("Compare (pairwise judge)")
    if run_eval or run_compare:
        _start("eval" if run_eval else "compare", name, picked, int(limit) or None, int(max_tokens))


def _start(kind: str, name: str, picked: list[str], limit: int | None, max_tokens: int) -> None:
    try:
        started_by = state.acting("evaluate")
        models = [compare_parts.spec_of(key) for key in picked]
        judge = use_model(state.model_settings()).spec
        params = {"benchmark": name, "models": models, "judge": judge, "max_tokens": max_tokens}
        if kind == "eval":
            params["limit"] = limit
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
        report = summary.benchmark_summary(store, name)
    except RnrError as exc:
        widgets.error(exc)
        return {"models": []}
    st.subheader("Pass rate per model")
    if report["reports"]:
        for warning in report["warnings"]:
            st.warning(esc(warning))
        compare_charts.pass_rates(report["reports"])
        compare_charts.differences(report["differences"])
    else:
        st.info("No evaluations of this benchmark yet.")
    st.subheader("Leaderboard")
    compare_charts.leaderboard(report["leaderboard"], "bench")
    return report


def blind_votes(store, name: str, models: list[str]) -> None:
    """Two models' stored answers to one item at a time, sides at random; the names after the vote."""
    if len(models) < 2:
        st.caption("Evaluate at least two models on this benchmark to vote on their answers.")
        return
    if not state.may("vote"):
        login.cannot("vote", "voting")
        return
    c = st.columns(2)
    a = c[0].selectbox("First model", models, key="bench_a")
    b = c[1].selectbox("Second model", [m for m in models if m != a], key="bench_b")
    pairs = summary.answer_pairs(store, name, a, b)
    if not pairs:
        st.info("These two models have no answered item in common.")
        return
    shown = _current(name, a, b, len(pairs))
    item = pairs[shown["at"]]
    st.caption(esc(f"Item {shown['at'] + 1} of {len(pairs)}"))
    st.text(f"System prompt: {item['system_prompt'] or '(none)'}")
    widgets.conversation(item["messages"])
    sides = [(a, item["response_a"]), (b, item["response_b"])][:: -1 if shown["swap"] else 1]
    cols = st.columns(2)
    for letter, col, (model, text) in zip("AB", cols, sides):
        col.markdown(f"**Model {letter}**" + (esc(f": {model}") if shown["voted"] else ""))
        col.text(text)
    _vote_row(name, item, shown, sides)


def _current(name: str, a: str, b: str, n: int) -> dict:
    """The item on show for this pair, kept across reruns; a new pair starts at the first item."""
    shown = st.session_state.get(BLIND)
    if not shown or shown["key"] != (name, a, b) or shown["at"] >= n:
        shown = {"key": (name, a, b), "at": 0, "swap": random.random() < 0.5, "voted": None}
        st.session_state[BLIND] = shown
    return shown


def _vote_row(name: str, item: dict, shown: dict, sides: list[tuple[str, str]]) -> None:
    if shown["voted"]:
        c = st.columns([3, 1])
        c[0].success(esc(f"Vote recorded: {shown['voted']}."))
        if c[1].button("Next item", type="primary"):
            shown.update(at=shown["at"] + 1, swap=random.random() < 0.5, voted=None)
            st.rerun()
        return
    c = st.columns(compare_parts.BUTTON_WIDTHS)
    for col, (text, winner) in zip(c, compare_parts.VOTES.items()):
        if col.button(text, key=f"bench-vote-{text}", width="stretch"):
            _vote(name, item, shown, sides, winner)
            st.rerun()


def _vote(name: str, item: dict, shown: dict, sides, winner: str) -> None:
    from rnr_core.evaluate.compare import record_vote

    try:
        record_vote(
            state.store(),
            benchmark=name,
            item_key=item["item_key"],
            item=None,
            model_a=sides[0][0],
            model_b=sides[1][0],
            response_a=sides[0][1],
            response_b=sides[1][1],
            winner=winner,
            voter=state.acting("vote"),
            blind=True,
        )
    except RnrError as exc:
        widgets.error(exc)
        return
    said = {"a": f"{sides[0][0]} wins", "b": f"{sides[1][0]} wins"}
    shown["voted"] = said.get(winner, winner.replace("_", " "))
