"""Export: choose samples, splits and a format, preview the counts and the leakage report, write the files
with their dataset card and download them. In team mode the folder is a name under the operator's export
root, and the files come through the browser."""

from datetime import datetime

import streamlit as st

from rnr_app import export_controls, export_view, login, results, state, widgets
from rnr_app.widgets import esc
from rnr_core import access
from rnr_core.access import export_shown as shown_at
from rnr_core.export import ExportExists, export_preview, export_samples

store = state.store()
st.title("Export")
if not state.may("export"):
    login.cannot("export", "exporting")
    st.stop()

chosen = {**export_controls.selection(store), **export_controls.splits()}
written_as = export_controls.output()


def preview_counts() -> dict:
    with st.spinner("Counting the selection and checking for near-duplicates…"):
        found = export_preview(store, **chosen)
    return {**found, "at": datetime.now().strftime("%H:%M:%S")}


# Counting decides every rule of every sample, and the leakage check embeds instructions not seen
# before: seconds on a big store, so on demand.
if st.button("Preview counts"):
    results.act("export_preview", chosen, preview_counts)
shown = results.current("export_preview", chosen)
if shown and "error" in shown:
    widgets.error(shown["error"])
elif shown:
    export_view.preview(shown["value"])

default = access.export_default(datetime.now().strftime("%Y%m%d-%H%M%S"))
# In team mode no server path is typed: a folder name under the team's export folder.
label, where = ("Folder name", "Under the team's export folder.") if state.team() else ("Folder", None)
out = st.text_input(label, value=default, key="export_out", help=where)
subject = {**chosen, **written_as, "out": out}


def write(overwrite: bool, progress) -> dict:
    """The export, recorded as by whoever may export, into the folder the field names (checked there)."""
    how = dict(overwrite=overwrite, progress=progress, exported_by=state.acting("export"))
    return export_samples(store, access.export_dir(out), **how, **written_as, **chosen)


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
    export_view.written(done["value"])
elif before := results.earlier("export_result", subject):
    st.caption(esc(f"The last export, made with other settings, is in {shown_at(before['value']['out'])}."))
