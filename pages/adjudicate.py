"""Adjudicate: where people disagree (accept or reject, pass or fail), a maintainer rules."""

import streamlit as st

from rnr_app import login, state, widgets
from rnr_core.errors import RnrError
from rnr_core.review import REJECT_REASONS, plural

SHOWN = 20

store = state.store()
st.title("Adjudicate")
if not state.may("adjudicate"):  # navigation offers the page to maintainers only; a stale link lands here
    login.cannot("adjudicate", "adjudicating disagreements")
    st.stop()
st.caption(
    "Items that enough people labelled and that they disagree on. Your ruling is recorded as an "
    "adjudication and decides the item over every person's label."
)
notice = st.session_state.pop("adjudicate_notice", None)
if notice:
    getattr(st, notice[0])(widgets.esc(notice[1]))


def on_review(store, adjudicator: str, sample_id: int, ruling: str, reason: str | None = None) -> None:
    store.adjudicate_review(sample_id, ruling, adjudicator, reason=reason)


def on_label(store, adjudicator: str, sample_id: int, rule_id: str, verdict: str) -> None:
    store.adjudicate_label(sample_id, rule_id, verdict, adjudicator)


def settle(rule, *args, said: str) -> None:
    """Record a ruling (`rule(store, adjudicator, *args)`), keeping the outcome for the next run. A callback
    runs in the next script run, whose thread needs its own cursor: the store is looked up here, and the
    policy is asked at the moment of the ruling."""
    try:
        rule(state.store(), state.acting("adjudicate"), *args)
    except RnrError as exc:
        st.session_state["adjudicate_notice"] = ("error", exc.says("app"))
        return
    st.session_state["adjudicate_notice"] = ("success", said)


def review_dispute(item: dict) -> None:
    sid = item["id"]
    st.markdown(f"**Sample {sid}** · {widgets.esc(item['instruction'])}")
    for d in item["decisions"]:
        why = f" ({REJECT_REASONS.get(d['reason'], d['reason'])})" if d["reason"] else ""
        note = f": “{d['note']}”" if d["note"] else ""
        st.text(f"{d['reviewer']}: {d['decision']}{why}{note}")
    c = st.columns([1, 1, 2])
    reason = c[2].selectbox(
        "Reason, to reject", list(REJECT_REASONS), format_func=REJECT_REASONS.get, key=f"adj-reason-{sid}"
    )
    c[0].button(
        "Accept",
        key=f"adj-accept-{sid}",
        on_click=settle,
        args=(on_review, sid, "accept"),
        kwargs={"said": f"Sample {sid} accepted by your ruling."},
    )
    c[1].button(
        "Reject",
        key=f"adj-reject-{sid}",
        on_click=settle,
        args=(on_review, sid, "reject", reason),
        kwargs={"said": f"Sample {sid} rejected by your ruling."},
    )


def label_dispute(item: dict) -> None:
    sid, rule = item["sample_id"], item["rule_id"]
    st.markdown(f"**Sample {sid} · rule {widgets.esc(rule)}** ({widgets.esc(item['category'])})")
    st.text(item["rule_text"] or "")
    for label in item["labels"]:
        st.text(f"{label['reviewer']}: {label['verdict']}{': ' + label['note'] if label['note'] else ''}")
    with st.expander("The sample"):
        sample = store.review_sample(sid)
        widgets.conversation(sample["messages"], sample["response"])
    c = st.columns(2)
    for col, verdict in zip(c, ("pass", "fail")):
        col.button(
            verdict.capitalize(),
            key=f"adj-{verdict}-{sid}-{rule}",
            on_click=settle,
            args=(on_label, sid, rule, verdict),
            kwargs={"said": f"Rule {rule} of sample {sid}: {verdict} by your ruling."},
        )


QUEUES = [  # heading, count, the page of items, what an empty queue says, how one item is drawn
    ("Reviews", store.review_dispute_count(), store.review_disputes, "sample", "reviewers", review_dispute),
    ("Audit labels", store.label_dispute_count(), store.label_disputes, "rule", "labels", label_dispute),
]
for heading, count, items, noun, who, draw in QUEUES:
    st.subheader(f"{heading} ({plural(count, noun)})")
    if not count:
        st.info(f"No {noun}'s {who} disagree.")
    for item in items(SHOWN) if count else []:
        with st.container(border=True):
            draw(item)
