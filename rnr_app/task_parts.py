"""How many people label each item of a task (review, audit): the maintainers' setting, and what it means
for the person's own queue, in words."""

import streamlit as st

from rnr_app import state, widgets
from rnr_core.errors import RnrError
from rnr_core.review import MAX_LABELS_PER_ITEM, TASKS, plural

ITEMS = {"review": "sample", "audit": "verdict"}


def labels_setting(store, task: str) -> int:
    """The labels per item in force for `task`, with the form that changes it; returns the value."""
    n = store.labels_per_item(task)
    kept = st.session_state.pop(f"task-notice-{task}", None)
    if kept:
        getattr(st, kept[0])(widgets.esc(kept[1]))
    if not state.may("set_task"):
        st.caption(widgets.esc(f"People per {ITEMS[task]}: {n} (maintainers set it)."))
        return n
    with st.expander(f"People per {ITEMS[task]}: {n}"), st.form(f"task-{task}"):
        st.number_input(
            f"Independent labels asked per item ({TASKS[task]})",
            min_value=1,
            max_value=MAX_LABELS_PER_ITEM,
            value=n,
            step=1,
            key=f"labels-{task}",
        )
        st.form_submit_button("Set", on_click=_set, args=(task,))
    return n


def _set(task: str) -> None:
    n = st.session_state[f"labels-{task}"]
    try:
        state.store().set_labels_per_item(task, n, state.acting("set_task"))
    except RnrError as exc:
        st.session_state[f"task-notice-{task}"] = ("error", exc.says("app"))
        return
    words = f"{plural(n, 'person', 'people')} per {ITEMS[task]}"
    st.session_state[f"task-notice-{task}"] = ("success", f"Saved: {words} for the {task}.")


def own_queue(task: str, n: int) -> None:
    """What the person's queue holds when several people label each item."""
    if n > 1:
        st.caption(
            f"Each {ITEMS[task]} needs {n} people's labels: your queue holds the {ITEMS[task]}s you have "
            f"not labelled that fewer than {n} people have."
        )
