"""Generate: pick or upload instructions, set up a run, watch it in the background, resume it."""

import streamlit as st

from rnr_app import login, state, widgets
from rnr_app.generate_form import settings_form
from rnr_app.run_view import runs_section
from rnr_app.widgets import esc
from rnr_core.errors import RnrError
from rnr_core.generate import RunConfig, start_run
from rnr_core.ingest import FORMATS
from rnr_core.ingest.upload import ingest_upload, preview_upload, upload_columns

store, jobs = state.store(), state.jobs()
st.title("Generate")


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


def start(config: RunConfig) -> None:
    run_id = start_run(store, config, started_by=state.acting("generate"))
    st.session_state.update(gen_job=jobs.start("generate", run_id=run_id), gen_run=run_id, gen_pick=run_id)
    skipped = store.get_run(run_id)["config"].get("skipped") or []
    if skipped:
        st.info(esc(f"Skipped {len(skipped)} drawn instruction(s) with no reference answer to recycle."))


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
        config = settings_form(names, state.model_settings())
        if config:
            start(config)
    except RnrError as exc:
        widgets.error(exc)
runs_section()
widgets.job_panel("judge_job", "Judging")
