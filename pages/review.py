"""Review: a filtered queue of samples; read, edit, accept or reject each, by keyboard too."""

from dataclasses import replace

import streamlit as st

from rnr_app import login, review_edit, state, task_parts
from rnr_app import review_parts as parts
from rnr_core.errors import RnrError
from rnr_core.review import plural

store = state.store()
st.title("Review")
per_sample = task_parts.labels_setting(store, "review")
flt = parts.filters(store)
if per_sample > 1:  # each reviewer's own queue: what they have not decided, until enough people have
    flt = replace(flt, open_for=state.identity().id)
task_parts.own_queue("review", per_sample)
page = store.queue(flt, after_id=st.session_state.get("queue_after"), limit=20)
if not page:
    filtered = replace(flt, open_for=None) != parts.QueueFilter()
    if flt.open_for:
        st.info("Nothing left for you here: you decided every sample, or enough people have.")
    else:
        st.info("No samples match these filters." if filtered else "No samples yet: start a run on Generate.")
    st.stop()
current = st.session_state.get("review_id")
if current not in {r["id"] for r in page}:
    current = st.session_state["review_id"] = page[0]["id"]
prev_id, next_id = store.neighbours(flt, current)


def go(sample_id: int | None) -> None:
    """Show another sample; the queue page moves to start at it when it is off this page."""
    if sample_id is not None:
        st.session_state["review_id"] = sample_id
        if sample_id not in {r["id"] for r in page}:
            st.session_state["queue_after"] = sample_id - 1


def act(action: str, sample_id: int, then: int | None) -> None:
    """Review `sample_id` with the reason and note given for it, then show `then`. A callback runs in the
    next script run, whose thread needs its own cursor: the previous run may still be inside a query."""
    reason, note = parts.inputs(sample_id)
    reason = reason if action == "reject" else None
    try:
        state.store().review([sample_id], action, state.acting("review"), reason, note)
    except RnrError as exc:
        parts.notify("sample", sample_id, "error", exc.says("app"))
        return
    parts.used(sample_id)
    go(then)


# The queue table, editor and history are drawn only when asked for: each costs every keystroke time.
top = st.columns([4, 1, 1, 1])
matching = store.queue_count(flt)
top[0].caption(f"{plural(matching, 'sample')} {'matches' if matching == 1 else 'match'}")
show_queue = top[1].toggle("Queue", key="show_queue")
reviewing = state.may("review")  # a viewer reads: no controls that write
editing = top[2].toggle("Edit", key="editing") if state.may("edit") else False
show_history = top[3].toggle("History", key="show_history")
queue_col, sample_col = st.columns([1, 2]) if show_queue else (None, st.container())
if queue_col:
    with queue_col:
        parts.queue_table(page, current)
with sample_col:
    c = st.columns(4)
    c[0].button("Previous", shortcut="K", on_click=go, args=(prev_id,), disabled=prev_id is None)
    c[1].button("Next", shortcut="J", on_click=go, args=(next_id,), disabled=next_id is None)
    if reviewing:
        c[2].button("Accept", shortcut="A", type="primary", on_click=act, args=("accept", current, next_id))
        c[3].button("Reject", shortcut="X", on_click=act, args=("reject", current, next_id))
    sample = store.review_sample(current)
    if reviewing:
        parts.action_inputs(sample)
    else:
        login.cannot("review", "accepting, rejecting and editing samples")
    parts.notice("sample", current)
    parts.header(sample)
    if per_sample > 1:
        parts.decisions(store.decisions([current])[current])
    if editing:
        review_edit.edit_form(sample)
    else:
        parts.sample_view(sample)
    if show_history:
        review_edit.history(store, sample)
    parts.rejudge(sample)
if reviewing:
    parts.bulk(store, flt, matching)
