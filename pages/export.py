"""Export: choose samples and splits, preview the counts, write the files and download them. In team mode
the folder is a name under the operator's export root, and the files come through the browser."""

from datetime import datetime
from pathlib import Path

import streamlit as st

from rnr_app import login, results, state, widgets
from rnr_app.widgets import esc
from rnr_core import access
from rnr_core.access import export_shown as shown_at
from rnr_core.export import FILES, FORMATS, ExportExists, export_preview, export_samples
from rnr_core.rules import CATEGORIES
from rnr_core.store import SAMPLE_STATUSES

DOWNLOAD_LIMIT = 200 * 1024 * 1024  # bigger files are read from the folder, not through the browser

store = state.store()
st.title("Export")
if not state.may("export"):
    login.cannot("export", "exporting")
    st.stop()

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


def preview_counts() -> dict:
    return {**export_preview(store, **chosen), "at": datetime.now().strftime("%H:%M:%S")}


# Counting the selection decides every rule of every sample: seconds on a big store, so on demand.
if st.button("Preview counts"):
    results.act("export_preview", chosen, preview_counts)
shown = results.current("export_preview", chosen)
if shown and "error" in shown:
    widgets.error(shown["error"])
elif shown:
    preview = shown["value"]
    c = st.columns(4)
    c[0].metric("Train", f"{preview['counts']['train']:,}")
    c[1].metric("Test", f"{preview['counts']['test']:,}")
    c[2].metric("Left out: failing", f"{preview['excluded']['failing']:,}")
    c[3].metric("Left out: not judged", f"{preview['excluded']['unjudged']:,}")
    if preview["split_warning"]:
        st.warning(esc(preview["split_warning"]))
    st.caption(esc(f"Counted at {preview['at']} with the settings above."))

default = access.export_default(datetime.now().strftime("%Y%m%d-%H%M%S"))
# In team mode no server path is typed: a folder name under the team's export folder.
label, where = ("Folder name", "Under the team's export folder.") if state.team() else ("Folder", None)
out = st.text_input(label, value=default, key="export_out", help=where)
subject = {**chosen, "fmt": fmt, "out": out}


def write(overwrite: bool, progress) -> dict:
    """The export, recorded as by whoever may export, into the folder the field names (checked there)."""
    how = dict(fmt=fmt, overwrite=overwrite, progress=progress, exported_by=state.acting("export"))
    return export_samples(store, access.export_dir(out), **how, **chosen)


def export(overwrite: bool = False) -> None:
    """Write the files with a progress bar while the store is read; keep the result with its settings."""
    bar = st.progress(0.0, text="Exporting…")

    def progress(done: int, total: int, failed: int = 0) -> None:
        bar.progress(done / total if total else 1.0, text=f"Exporting: {done:,} of {total:,} samples read")

    try:
        results.act("export_result", subject, lambda: write(overwrite, progress))
    finally:
        bar.empty()


if st.button("Export", type="primary"):
    export()
done = results.current("export_result", subject)
failed = done and done.get("error")
if isinstance(failed, ExportExists):
    holds = f"The folder {shown_at(failed.out)} already holds {failed.contents}."
    st.warning(esc(f"{holds} Replace those files?"))
    c = st.columns([1, 1, 4])
    if c[0].button("Replace files", type="primary"):
        export(overwrite=True)
        st.rerun()
    if c[1].button("Cancel"):
        results.forget("export_result")
        st.rerun()
elif failed:
    widgets.error(failed)
elif done:
    manifest = done["value"]
    train, test = manifest["counts"]["train"], manifest["counts"]["test"]
    st.success(esc(f"Wrote {train:,} train and {test:,} test samples to {shown_at(manifest['out'])}."))
    if manifest["split_warning"]:
        st.warning(esc(manifest["split_warning"]))
    for name in FILES:
        path = Path(manifest["out"]) / name
        if path.is_file() and path.stat().st_size <= DOWNLOAD_LIMIT:
            # Read on click, not on every rerun of the page: the files may be hundreds of megabytes.
            st.download_button(
                f"Download {name}", path.read_bytes, file_name=name, key=f"dl-{name}", on_click="ignore"
            )
        elif path.is_file():
            st.caption(esc(f"{name} is too big to download here; find it at {shown_at(path)}."))
elif before := results.earlier("export_result", subject):
    st.caption(esc(f"The last export, made with other settings, is in {shown_at(before['value']['out'])}."))
