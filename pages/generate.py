"""Generate: pick or upload instructions, set up a run, watch it in the background, resume it."""

import streamlit as st

from rnr_app import state, widgets
from rnr_app.widgets import esc
from rnr_core.errors import RnrError
from rnr_core.generate import RunConfig, start_run
from rnr_core.ingest import FORMATS
from rnr_core.ingest.upload import ingest_upload, preview_upload
from rnr_core.models.connection import use_model

store, jobs = state.store(), state.jobs()
st.title("Generate")


def upload() -> None:
    """Preview an uploaded file and import it; a malformed one shows its error and writes nothing."""
    file = st.file_uploader("Upload instructions (Alpaca, ShareGPT, chat JSONL, CSV, Parquet)")
    if file is None:
        return
    fmt = st.selectbox("Format", ["detect", *FORMATS], key="upload_fmt")
    fmt = None if fmt == "detect" else fmt
    try:
        preview = preview_upload(file.name, file.getvalue(), fmt)
    except RnrError as exc:
        st.error(esc(exc))
        return
    st.caption(f"Detected format: {preview['format']} · {preview['records']} records")
    st.dataframe([{"line": r["line"], "messages": str(r["messages"])} for r in preview["rows"]])
    name = st.text_input("Dataset name", value=file.name.rsplit(".", 1)[0], key="upload_name")
    if st.button("Import", key="upload_import"):
        try:
            done = ingest_upload(store, file.name, file.getvalue(), name, fmt)
        except RnrError as exc:
            st.error(esc(exc))
        else:
            st.success(
                esc(f"Imported {done.added} instructions into {done.dataset} ({done.duplicates} duplicates).")
            )


def settings_form(datasets: list[str]) -> RunConfig | None:
    with st.form("run"):
        dataset = st.selectbox("Dataset", datasets, key="gen_dataset")
        c1, c2, c3 = st.columns(3)
        n = c1.number_input("Instructions (count)", 1, 100_000, 6, key="gen_n")
        k = c2.number_input("K (instructions per system prompt)", 1, 50, 3, key="gen_k")
        rules = c3.number_input("Rules per system prompt", 1, 12, 3, key="gen_rules")
        share = st.slider("Verifiable share of rules", 0.0, 1.0, 0.5, 0.1, key="gen_share")
        c1, c2, c3 = st.columns(3)
        tempting = c1.checkbox("Tempting turns", True, key="gen_tempting")
        out_of_scope = c2.checkbox("Out-of-scope turns", True, key="gen_oos")
        gate = c3.checkbox("Quality gate", True, help="Off for the tiny embedded model.", key="gen_gate")
        c1, c2 = st.columns(2)
        retries = c1.number_input("Retries", 0, 10, 3, key="gen_retries")
        seed = c2.number_input("Seed (0 draws a fresh one)", 0, 2**31 - 1, 0, key="gen_seed")
        if not st.form_submit_button("Start generation", type="primary", key="gen_start"):
            return None
    spec = use_model(state.model_settings()).spec
    return RunConfig(
        dataset=dataset,
        model=spec,
        n=n,
        k=k,
        rules=rules,
        verifiable_share=share,
        tempting=tempting,
        out_of_scope=out_of_scope,
        quality_gate=gate,
        max_retries=retries,
        seed=seed or None,
    )


def start(config: RunConfig) -> None:
    run_id = start_run(store, config)
    st.session_state.update(gen_job=jobs.start("generate", run_id=run_id), gen_run=run_id, gen_pick=run_id)


def runs_panel() -> None:
    """Any run: resume it when it stopped, judge it, and see its failed items with their raw output."""
    status = store.run_statuses()
    if not status:
        return
    st.subheader("Runs")
    run_id = st.selectbox("Run", list(status), format_func=lambda i: f"{i} ({status[i]})", key="gen_pick")
    c = st.columns(2)
    if c[0].button("Resume run", disabled=status[run_id] not in ("cancelled", "failed")):
        st.session_state.update(gen_job=jobs.start("generate", run_id=run_id), gen_run=run_id)
        st.rerun()
    if c[1].button("Judge run", help="Checkers for verifiable rules, the sidebar's model for the rest."):
        try:
            judge = use_model(state.model_settings()).spec
        except RnrError as exc:
            st.error(esc(exc))
        else:
            st.session_state["judge_job"] = jobs.start("judge", run_id=run_id, judge=judge)
    widgets.job_panel("judge_job", "Judging")
    for item in store.run_items(run_id, "failed")[:20]:
        with st.expander(f"Failed: {item['item_key']} · {item['stage']} · {item['attempts']} tries"):
            st.text(item["error"] or "")
            st.code(item["raw_output"] or "(no output)", language=None)


@st.fragment(run_every="1s")
def latest_samples() -> None:
    run_id = st.session_state.get("gen_run")
    if run_id:
        rows = store.recent_samples(run_id)
        st.caption(f"Latest samples of {run_id}")
        st.dataframe([{"id": s["id"], "kind": s["kind"], "response": s["response"][:160]} for s in rows])


with st.expander("Upload a file"):
    upload()
names = store.dataset_names()
if not names:
    st.info("No datasets yet: upload a file above.")
else:
    try:
        config = settings_form(names)
        if config:
            start(config)
    except RnrError as exc:
        st.error(esc(exc))
widgets.job_panel("gen_job", "Current run")
if st.session_state.get("gen_run"):
    latest_samples()
runs_panel()
