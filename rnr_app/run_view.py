"""The Runs part of the Generate page: pick a run and see how it stands, why items failed, and act.

Everything shown comes from one RunState (rnr_core.runs) worded by rnr_core.run_words, so the
picker, the banner, the progress bar and the failed items agree with each other and with Home.
"""

import streamlit as st

from rnr_app import login, state, widgets
from rnr_app.widgets import esc
from rnr_core import run_words
from rnr_core.errors import RnrError
from rnr_core.models.connection import use_model
from rnr_core.runs import RunState, live_runs, run_state, run_states

STATUS_COLOURS = {"running": "blue", "completed": "green", "failed": "red", "cancelled": "orange"}
FAILED_SHOWN = 20


def runs_section() -> None:
    """The Runs list and the picked run; redrawn each second while a run works in this process."""
    live = bool(live_runs(state.jobs()))
    st.fragment(_section, run_every="1s" if live else None)(live)


def _section(was_live: bool) -> None:
    store, jobs = state.store(), state.jobs()
    live = live_runs(jobs)
    if was_live and not live:
        st.rerun()  # a run ended: redraw the whole page, which also stops this polling
    states = {s.id: s for s in run_states(store, live)}
    if not states:
        return
    st.subheader("Runs")
    if st.session_state.get("gen_pick") not in states:
        st.session_state.pop("gen_pick", None)
    run_id = st.selectbox(
        "Run", list(states), format_func=lambda i: run_words.picker_label(states[i]), key="gen_pick"
    )
    show_run(run_state(store, run_id, live))


def show_run(run: RunState) -> None:
    """Status, progress, the banner that says why items failed, the actions, then the failed items."""
    c = st.columns([3, 1])
    c[0].markdown(esc(f"{run.id} · {run.dataset} · {run.model}"))
    c[1].badge(run.status, color=STATUS_COLOURS.get(run.status, "gray"))
    st.progress(run.fraction, text=esc(run_words.summary(run)))
    st.caption(esc(run_words.ITEMS_EXPLAINED))
    _banner(run)
    _actions(run)
    _failed_items(run)
    _latest_samples(run)


def _banner(run: RunState) -> None:
    """At the top, not in an expander: how the run ended and what to change."""
    if run.running:
        return
    if run.status == "completed":
        st.success(esc(f"Completed: {run.samples:,} samples made. Review them on the Review page."))
        return
    lines = [f"{run.status.capitalize()}: {run_words.STATUS_MEANS[run.status]}."]
    lines += run_words.failure_lines(run, "app") + [run_words.next_step(run, "app")]
    text = "  \n".join(esc(line) for line in lines if line)
    (st.error if run.status == "failed" else st.warning)(text)


def _actions(run: RunState) -> None:
    if not state.may("generate"):
        login.cannot("generate", "starting, cancelling and judging runs")
        return
    c = st.columns(3)
    if run.running and c[0].button("Cancel run", key=f"cancel-{run.id}") and login.allowed("generate"):
        state.jobs().cancel(run.job_id)
    kind = "primary" if run.retry_helps else "secondary"
    resume = c[1].button(
        "Resume run", disabled=not run.can_resume, type=kind, help=run_words.next_step(run, "app")
    )
    if resume and login.allowed("generate"):
        st.session_state.update(gen_job=state.jobs().start("generate", run_id=run.id), gen_run=run.id)
        st.rerun()
    judge_help = "Checkers for verifiable rules, the sidebar's model for the rest."
    if c[2].button("Judge run", help=judge_help) and login.allowed("judge"):
        try:
            judge = use_model(state.model_settings()).spec
        except RnrError as exc:
            widgets.error(exc)
        else:
            st.session_state["judge_job"] = state.jobs().start("judge", run_id=run.id, judge=judge)
            st.rerun()


def _failed_items(run: RunState) -> None:
    if not run.items.failed:
        return
    shown = min(run.items.failed, FAILED_SHOWN)
    st.markdown(esc(f"Failed items ({shown:,} of {run.items.failed:,}), with the model's raw output:"))
    for item in state.store().failed_items(run.id, FAILED_SHOWN):
        with st.expander(esc(run_words.item_label(item))):
            st.text(item["error"] or "")
            st.code(item["raw_output"] or "(no output)", language=None)


def _latest_samples(run: RunState) -> None:
    rows = state.store().recent_samples(run.id)
    if rows:
        st.caption(esc(f"Latest samples of {run.id}"))
        st.dataframe([{"id": s["id"], "kind": s["kind"], "response": s["response"][:160]} for s in rows])
