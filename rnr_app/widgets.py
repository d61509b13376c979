"""Small display pieces shared by pages. Stored text is shown as text, never as markup."""

import re

import streamlit as st

from rnr_app import state
from rnr_core import run_words
from rnr_core.errors import RnrError
from rnr_core.evaluate.words import interval, kappa  # noqa: F401  (the one wording, for pages)

# Markdown's punctuation, plus ':' (emoji shortcodes) and '$' (LaTeX), which Streamlit also reads.
_MARKUP = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def esc(text) -> str:
    """Text from the store or a user, made literal inside Streamlit's markdown."""
    return _MARKUP.sub(r"\\\1", str(text))


VERDICT_COLOURS = {"pass": "green", "fail": "red", "unknown": "orange"}
JUDGE_SHORT = (
    ("adjudicator:", "adjudicator"),
    ("human:", "human"),
    ("checker", "checker"),
    ("llm:", "LLM judge"),
)


def judge_label(judge: str) -> str:
    return next((label for prefix, label in JUDGE_SHORT if judge.startswith(prefix)), "judge")


def verdict_chips(verdicts: list[dict]) -> None:
    """One badge per judge that has spoken on a rule; stale ones greyed."""
    if not verdicts:
        st.badge("not judged", color="gray")
        return
    cols = st.columns(len(verdicts))
    for col, v in zip(cols, verdicts):
        colour = "gray" if v.get("stale") else VERDICT_COLOURS.get(v["verdict"], "gray")
        stale = " (stale)" if v.get("stale") else ""
        col.badge(f"{judge_label(v['judge'])}: {v['verdict']}{stale}", color=colour)


def conversation(messages: list[dict], response: str | None = None) -> None:
    """The user turns and the response, each as plain text in a chat bubble."""
    for m in messages:
        with st.chat_message("user" if m["role"] == "user" else "assistant"):
            st.text(m["content"])
    if response is not None:
        with st.chat_message("assistant"):
            st.text(response)


def error(exc) -> None:
    """An error as the app says it: a core error's fix names the app's controls, not CLI flags."""
    st.error(esc(exc.says("app") if isinstance(exc, RnrError) else exc))


def records(rows: list[dict]) -> None:
    """Imported records as conversations: each turn's role and text, never a Python repr."""
    for row in rows:
        st.caption(esc(f"Line {row['line']}"))
        for m in row["messages"]:
            with st.chat_message(m["role"]):
                st.text(m["content"])


def progress_line(p: dict, running: bool = True) -> str:
    """A job's tracker snapshot in words; rate and time left only while it runs."""
    # The tracker's `done` counts failed items too; 'done' here means done well, as in run_words.
    line = f"{p['done'] - p['failed']:,} of {p['total'] or 0:,} done · {p['failed']:,} failed"
    if running and p.get("rate"):
        line += f" · {p['rate']:.2f}/s"
        if p.get("eta_s") is not None:
            line += f" · about {run_words.duration(p['eta_s'])} left"
    return line


def job_panel(key: str, title: str) -> None:
    """The job whose id is in session_state[key], if any: live while it runs, then as it ended."""
    job_id = st.session_state.get(key)
    if not job_id:
        return
    job = state.jobs().get(job_id)
    if job["status"] == "running":
        _live(job_id, title)
    else:
        _show(job, title)


@st.fragment(run_every="1s")
def _live(job_id: str, title: str) -> None:
    """Redraws only itself each second; once the job ends, the whole page, to show what it stored."""
    job = state.jobs().get(job_id)
    if job["status"] != "running":
        st.rerun()
    _show(job, title)


# The action that starts (and so may cancel) a job of each kind; a kind not listed is its own action.
JOB_ACTIONS = {"eval": "evaluate", "compare": "evaluate", "ifeval": "evaluate"}


def _cancel(job: dict) -> None:
    """Cancel a job: its kind's own action (generate, judge), so the policy is asked at the click."""
    try:
        state.acting(JOB_ACTIONS.get(job["kind"], job["kind"]))
    except RnrError as exc:
        error(exc)
        return
    state.jobs().cancel(job["id"])


def _show(job: dict, title: str) -> None:
    p, running = job["progress"], job["status"] == "running"
    st.markdown(f"**{esc(title)}** · {job['kind']} · `{job['status']}`")
    st.progress(min(1.0, p["done"] / p["total"]) if p["total"] else 0.0, text=progress_line(p, running))
    if running:
        # Cancelling is the job kind's own action (generate, judge): the policy is asked at the click.
        if st.button("Cancel", key=f"cancel-{job['id']}"):
            _cancel(job)
    elif job["error"]:
        st.error(esc(job["error_app"] or job["error"]))
