"""Generate: pick or upload instructions, set up a run, watch it in the background, resume it."""

import streamlit as st

from rnr_app import login, state, widgets
from rnr_app.run_view import runs_section
from rnr_app.widgets import esc
from rnr_core.errors import RnrError
from rnr_core.generate import RunConfig, start_run
from rnr_core.generate.plan import GATE_CHOICES, resolve_gate
from rnr_core.ingest import FORMATS
from rnr_core.ingest.upload import ingest_upload, preview_upload, upload_columns
from rnr_core.models.connection import use_model

store, jobs = state.store(), state.jobs()
st.title("Generate")
GATE_HELP = (
    "Retries system prompts unfit to train on: placeholders, '...', a vague role, repeated or "
    "contradicting rules. Auto is on for every model except the small embedded one ('local'), "
    "whose system prompts almost never pass; On and Off apply to any model."
)


def upload() -> None:
    """Preview an uploaded file and import it; a malformed one shows its error and writes nothing."""
    file = st.file_uploader("Upload instructions (Alpaca, ShareGPT, chat JSONL, CSV, Parquet)")
    if file is None:
        return
    c = st.columns(2)
    fmt = c[0].selectbox("Format", ["detect", *FORMATS], key="upload_fmt")
    fmt = None if fmt == "detect" else fmt
    try:
        columns = upload_columns(file.name, file.getvalue(), fmt)
        column = c[1].selectbox("Column", ["auto", *columns], key="upload_column") if columns else "auto"
        column = None if column == "auto" else column
        preview = preview_upload(file.name, file.getvalue(), fmt, column)
    except RnrError as exc:
        widgets.error(exc)
        return
    st.caption(esc(f"Detected format: {preview['format']} · {preview['records']:,} records · first ones:"))
    widgets.records(preview["rows"])
    name = st.text_input("Dataset name", value=file.name.rsplit(".", 1)[0], key="upload_name")
    if st.button("Import", key="upload_import"):
        try:
            state.acting("manage_datasets")
            done = ingest_upload(store, file.name, file.getvalue(), name, fmt, column)
        except RnrError as exc:
            widgets.error(exc)
        else:
            st.success(
                esc(f"Imported {done.added} instructions into {done.dataset} ({done.duplicates} duplicates).")
            )


def settings_form(datasets: list[str]) -> RunConfig | None:
    try:
        spec, problem = use_model(state.model_settings()).spec, None
    except RnrError as exc:  # shown here and raised again on Start; the form stays usable
        spec, problem = None, exc
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
        gate = c3.selectbox(
            "Quality gate", GATE_CHOICES, format_func=str.title, help=GATE_HELP, key="gen_gate"
        )
        c1, c2 = st.columns(2)
        retries = c1.number_input("Retries", 0, 10, 3, key="gen_retries")
        seed = c2.number_input("Seed (0 draws a fresh one)", 0, 2**31 - 1, 0, key="gen_seed")
        if spec:
            auto = "on" if resolve_gate("auto", spec) else "off: the embedded model is too small to pass it"
            st.caption(esc(f"Quality gate Auto for {spec}: {auto}."))
        else:
            widgets.error(problem)
        if not st.form_submit_button("Start generation", type="primary", key="gen_start"):
            return None
    if problem:
        raise problem
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
    run_id = start_run(store, config, started_by=state.acting("generate"))
    st.session_state.update(gen_job=jobs.start("generate", run_id=run_id), gen_run=run_id, gen_pick=run_id)


if state.may("manage_datasets"):
    with st.expander("Upload a file"):
        upload()
names = store.dataset_names()
if not names:
    st.info("No datasets yet: upload a file above.")
elif not state.may("generate"):
    login.cannot("generate", "starting runs")
else:
    try:
        config = settings_form(names)
        if config:
            start(config)
    except RnrError as exc:
        widgets.error(exc)
runs_section()
widgets.job_panel("judge_job", "Judging")
