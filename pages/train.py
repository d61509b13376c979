"""Train: fine-tune a base model on an export, as a background job with a live loss chart; the registered
fine-tunes, which Compare and 'rnr eval' offer next to their base."""

import streamlit as st

from rnr_app import login, state, train_form, train_view, widgets
from rnr_core.errors import RnrError

store = state.store()
st.title("Train")
st.caption(
    "Supervised fine-tuning (TRL) on an export in the messages format, with the loss on the assistant's "
    "turns only. The result is registered by name: Compare and 'rnr eval' offer it next to its base."
)
if not state.may("train"):
    login.cannot("train", "training models")
    st.stop()

job = train_view.current_job()
if job and job["status"] == "running":
    st.info("A training job is running; a new one can start when it ends.")
else:
    try:
        params = train_form.form(store)
        if params:
            train_view.start(params)
    except RnrError as exc:
        widgets.error(exc)
train_view.panel(job)
train_view.resume(store)
train_view.fine_tunes(store, job)
