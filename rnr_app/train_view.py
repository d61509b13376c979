"""The Train page's live part and its lists: the training job (progress, ETA, loss, cancel), the
registered fine-tunes, and resuming one that did not finish. What it shows comes from the job tracker
and the store."""

import re

import plotly.graph_objects as go
import streamlit as st

from rnr_app import compare_models, login, state
from rnr_app.widgets import esc
from rnr_core import access, run_words
from rnr_core.errors import NotFound, RnrError
from rnr_core.train import check_request

JOB = "train_job"  # session key: the id of the training job this session started
COLUMNS = {"Final loss": st.column_config.NumberColumn(format="%.4f")}
_PATH = re.compile(r"(?<![\w.])/[^\s'\",;()]+")


def said(text: str) -> str:
    """`text` as the page shows it: in team mode an export by its folder name and no other server path
    (a team's visitors never see the server's folders)."""
    if not state.team():
        return text
    root = re.escape(str(access.config().export_root.resolve()))
    text = re.sub(root + r"/([^\s'\",;/]+)", r"\1", text)
    return _PATH.sub("(a folder on the server)", text)


def start(params: dict) -> None:
    """Start a training job of the core's runner, as whoever may train; keep only its id."""
    started_by = state.acting("train")
    try:  # a wrong export or base is said at once, under the form, rather than as a failed job
        *_, out, name = check_request(
            state.store(), params["data"], params.get("base", "local"), params.get("out"), params.get("name")
        )
    except RnrError as exc:
        st.error(esc(said(exc.says("app"))))
        return
    # The job carries the resolved folder and name, so its heading, loss chart and the resume list
    # name the fine-tune it trains (an empty name would default to a new one from the clock).
    params = {**params, "out": str(out), "name": name}
    st.session_state[JOB] = state.jobs().start("train", started_by=started_by, **params)
    st.rerun()


def current_job() -> dict | None:
    """The training job to show: this session's, else the newest one running in this process (a job
    survives its page, so a reload or another tab finds it)."""
    jobs = state.jobs()
    try:
        if job_id := st.session_state.get(JOB):
            return jobs.get(job_id)
    except NotFound:  # the process was restarted since: the job is gone, resume is for that
        st.session_state.pop(JOB, None)
    running = running_jobs()
    return max(running, key=lambda j: j["started_at"]) if running else None


def running_jobs() -> list[dict]:
    """The training jobs running in this process."""
    return [j for j in state.jobs().list() if j["kind"] == "train" and j["status"] == "running"]


def panel(job: dict | None) -> None:
    """The training job, live while it runs (only this part redraws), then as it ended."""
    if job is None:
        return
    if job["status"] == "running":
        st.fragment(_live, run_every="1s")(job["id"])
    else:
        _show(job)


def _live(job_id: str) -> None:
    job = state.jobs().get(job_id)
    if job["status"] != "running":
        st.rerun()  # the whole page: the fine-tunes list shows what the job registered
    _show(job)


def step_line(p: dict, running: bool) -> str:
    """The tracker's snapshot in steps; pace and time left only while it runs."""
    line = f"Step {p['done']:,} of {p['total']:,}" if p["total"] else "Preparing…"
    if running and p.get("rate") and p.get("eta_s") is not None:
        rate = p["rate"]  # slow steps read better as seconds per step
        pace = f"{rate:.2f} steps/s" if rate >= 1 else f"{run_words.duration(1 / rate)} per step"
        line += f" · {pace} · about {run_words.duration(p['eta_s'])} left"
    return line


def _show(job: dict) -> None:
    name, p, running = job["params"]["name"], job["progress"], job["status"] == "running"
    st.subheader(esc(f"Training {name}"))
    st.progress(min(1.0, p["done"] / p["total"]) if p["total"] else 0.0, text=step_line(p, running))
    if running:
        if st.button("Cancel training", key=f"cancel-{job['id']}") and login.allowed("train"):
            state.jobs().cancel(job["id"])
    elif job["error"]:
        st.error(esc(said(job["error_app"] or job["error"])))
    elif job["status"] == "cancelled":
        st.warning(esc(f"Cancelled: the last checkpoint of {name} is kept; resume it below."))
    else:
        offered = "Compare and 'rnr eval' offer it next to its base"
        st.success(esc(f"Trained and registered as {name}: {offered}."))
    if running:  # once it has ended, the fine-tunes list below draws its curve
        loss_chart(state.store().train_losses(name))


def loss_chart(losses: list[dict]) -> None:
    """The logged training loss per step, as the store holds it."""
    if not losses:
        st.caption("No loss logged yet: the first point comes with the first logged step.")
        return
    steps, loss = [r["step"] for r in losses], [r["loss"] for r in losses]
    fig = go.Figure(go.Scatter(x=steps, y=loss, mode="lines+markers"))
    fig.update_layout(title="Training loss", xaxis_title="Step", yaxis_title="Loss", height=320)
    st.plotly_chart(fig)


def fine_tunes(store, job: dict | None) -> None:
    """Every registered fine-tune with its base, status, start, steps and last logged loss; then the
    loss curve of one (the one this session trained, else the newest) while no job draws its own."""
    rows = store.fine_tunes()
    st.subheader("Fine-tunes")
    if not rows:
        st.caption("No fine-tunes yet: start one above, or with 'rnr train'.")
        return
    names = compare_models.names_of(ft["base"] for ft in rows)
    shown = []
    for ft in rows:
        losses = store.train_losses(ft["name"])
        last = losses[-1] if losses else {}
        row = {
            "Name": ft["name"],
            "Base": said(names[ft["base"]]),
            "Status": ft["status"],
            "Created": ft["created_at"],
            "Steps": last.get("step"),
            "Final loss": last.get("loss"),
        }
        shown.append(row if state.team() else {**row, "Model spec": ft["spec"]})
    st.dataframe(shown, hide_index=True, column_config=COLUMNS)
    if job is None or job["status"] != "running":
        curve(store, [ft["name"] for ft in rows], job and job["params"]["name"])


def curve(store, names: list[str], first: str | None) -> None:
    """The loss curve of the fine-tune picked (`first` the one offered first)."""
    names = sorted(names, key=lambda n: n != first)
    name = st.selectbox("Loss curve of", names, key="train_curve")
    loss_chart(store.train_losses(name))


def resume(store) -> None:
    """Pick a fine-tune whose training did not finish and go on from its last checkpoint."""
    live = {j["params"]["name"] for j in running_jobs()}
    unfinished = [f["name"] for f in store.fine_tunes() if f["status"] != "completed"]
    unfinished = [name for name in unfinished if name not in live]
    if not unfinished:
        return
    c = st.columns([3, 1])
    name = c[0].selectbox("Unfinished training", unfinished, key="train_resume")
    c[1].space("small")
    if c[1].button("Resume training") and login.allowed("train"):
        try:
            start(resume_params(store.fine_tune(name)))
        except RnrError as exc:
            st.error(esc(said(exc.says("app"))))


def resume_params(ft: dict) -> dict:
    """train_model's arguments that go on with `ft` where its last checkpoint left off."""
    return {**ft["settings"], "data": ft["data"], "base": ft["base"], "name": ft["name"], "resume": True}
