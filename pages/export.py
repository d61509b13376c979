"""Export: choose samples and splits, preview the counts, write the files and download them."""

from datetime import datetime
from pathlib import Path

import streamlit as st

from rnr_app import state
from rnr_app.widgets import esc
from rnr_core import settings
from rnr_core.errors import RnrError
from rnr_core.export import FORMATS, export_preview, export_samples
from rnr_core.rules import CATEGORIES
from rnr_core.store import SAMPLE_STATUSES

DOWNLOAD_LIMIT = 200 * 1024 * 1024  # bigger files are read from the folder, not through the browser

store = state.store()
st.title("Export")

c = st.columns(3)
statuses = c[0].multiselect("Status", SAMPLE_STATUSES, default=["pending", "accepted"])
dataset = c[1].selectbox("Dataset", ["any", *store.dataset_names()])
run_id = c[2].selectbox("Run", ["any", *store.run_statuses()])
categories = st.multiselect("Rule categories (any of)", CATEGORIES)
include_failing = st.checkbox("Include samples that failed a rule or are not fully judged")
c = st.columns(3)
test_fraction = c[0].slider("Test share", 0.0, 0.5, 0.1, 0.05)
seed = c[1].number_input("Split seed", 0, 2**31 - 1, 0)
fmt = c[2].selectbox("Format", list(FORMATS))
chosen = {
    "statuses": statuses,
    "dataset": None if dataset == "any" else dataset,
    "run_id": None if run_id == "any" else run_id,
    "categories": categories or None,
    "include_failing": include_failing,
    "test_fraction": test_fraction,
    "seed": seed,
}

# Counting the selection decides every rule of every sample: seconds on a big store, so on demand.
if st.button("Preview counts"):
    try:
        st.session_state["export_preview"] = (chosen, export_preview(store, **chosen))
    except RnrError as exc:
        st.error(esc(exc))
shown = st.session_state.get("export_preview")
if shown and shown[0] == chosen:
    preview = shown[1]
    c = st.columns(4)
    c[0].metric("Train", preview["counts"]["train"])
    c[1].metric("Test", preview["counts"]["test"])
    c[2].metric("Left out: failing", preview["excluded"]["failing"])
    c[3].metric("Left out: not judged", preview["excluded"]["unjudged"])

default_out = settings.rnr_home() / "exports" / datetime.now().strftime("%Y%m%d-%H%M%S")
out = st.text_input("Folder", value=str(default_out), key="export_out")
if st.button("Export", type="primary"):
    try:
        st.session_state["exported"] = export_samples(store, out, fmt=fmt, **chosen)
    except RnrError as exc:
        st.error(esc(exc))

done = st.session_state.get("exported")
if done:
    counts = done["counts"]
    st.success(esc(f"Wrote {counts['train']} train and {counts['test']} test samples to {done['out']}."))
    for name in ("train.jsonl", "test.jsonl", "manifest.json"):
        path = Path(done["out"]) / name
        if path.is_file() and path.stat().st_size <= DOWNLOAD_LIMIT:
            st.download_button(f"Download {name}", path.read_bytes(), file_name=name, key=f"dl-{name}")
        elif path.is_file():
            st.caption(esc(f"{name} is too big to download here; find it at {path}."))
