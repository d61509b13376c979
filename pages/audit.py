"""Judge audit: people spot-check the riskiest verdicts; agreement says where the judge can be trusted."""

import plotly.express as px
import streamlit as st

from rnr_app import audit_parts as parts
from rnr_app import state, task_parts
from rnr_core.audit import agreement_rows, human_rows
from rnr_core.rules import CATEGORIES
from rnr_core.stats import KAPPA_FLOOR, MIN_LABELS

QUEUE = 20
COUNTS = {"Labels": st.column_config.NumberColumn(format="localized")}  # thousands separated
PEOPLE = {"Items": st.column_config.NumberColumn(format="localized")}

store = state.store()
st.title("Judge audit")
# Only the open tab is computed: the agreement report reads every label pair.
label_tab, agreement_tab, calibration_tab = st.tabs(
    ["Label verdicts", "Agreement", "Judge vs checkers"], key="audit_tab", on_change="rerun"
)


def label_view() -> None:
    parts.notice()
    per_item = task_parts.labels_setting(store, "audit")
    task_parts.own_queue("audit", per_item)
    category = st.selectbox("Category", ["any", *CATEGORIES], key="audit_category")
    # Skipped items stay in the queue, further down; the page holds enough rows to show them all.
    skipped = len(st.session_state.get("audit_skipped", ()))
    chosen = None if category == "any" else category
    queue = store.audit_queue(category=chosen, limit=QUEUE + skipped, reviewer=state.identity().id)
    if not queue:
        st.info(
            "Nothing left for you to check: you labelled every verdict here, or enough people have."
            if per_item > 1
            else "Nothing left to check: every verdict here has a human label."
        )
        return
    item = parts.current(queue)
    st.subheader("Queue, riskiest first")
    st.caption("Click a row to label that verdict.")
    parts.queue_table(queue, item)
    st.subheader("Label")
    parts.show_item(store, item)
    parts.label_form(item, parts.after(queue, item))


def confusion_chart(result: dict, title: str):
    fig = px.imshow(
        result["confusion"],
        x=["judge: pass", "judge: fail"],
        y=["human: pass", "human: fail"],
        text_auto=True,
        color_continuous_scale="Blues",
        title=title,
    )
    return fig.update_layout(height=320, coloraxis_showscale=False)


def agreement_view() -> None:
    report, people = parts.agreement(store)
    if not report["by_judge"]:
        st.info("No human labels yet: label some verdicts first.")
        return
    st.caption(
        f"A judge is trusted where at least {MIN_LABELS} labels give a Cohen's kappa of {KAPPA_FLOOR} or "
        "more; the interval is a 95% bootstrap confidence interval. Beside it, how much people agree with "
        "each other: a judge cannot be expected to agree with people more than they agree with each other."
    )
    st.subheader("By judge")
    overall = {None: people["overall"]}
    st.dataframe(agreement_rows(report["by_judge"], overall), hide_index=True, column_config=COUNTS)
    st.subheader("By judge and rule category")
    per_category = {(j, c): r for j, by_c in report["by_category"].items() for c, r in by_c.items()}
    ceiling = people["by_category"]
    st.dataframe(agreement_rows(per_category, ceiling), hide_index=True, column_config=COUNTS)
    st.subheader("People with each other (the ceiling)")
    st.dataframe(human_rows(people), hide_index=True, column_config=PEOPLE)
    st.subheader("Human label against judge verdict")
    for judge, result in report["by_judge"].items():
        st.plotly_chart(confusion_chart(result, f"{judge}: human vs judge"))


if label_tab.open:
    with label_tab:
        label_view()
if agreement_tab.open:
    with agreement_tab:
        agreement_view()
if calibration_tab.open:
    with calibration_tab:
        st.caption(
            f"Rules that code can check give the LLM judge a free exam: below a kappa of {KAPPA_FLOOR}, do "
            "not trust its verdicts on free-form rules."
        )
        parts.calibrate_button(store)
        parts.calibration_view(store, st.session_state.get("cal_run"))
