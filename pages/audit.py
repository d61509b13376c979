"""Judge audit: people spot-check the riskiest verdicts; agreement says where the judge can be trusted."""

import plotly.express as px
import streamlit as st

from rnr_app import state, widgets
from rnr_app.widgets import esc
from rnr_core.audit import agreement_report
from rnr_core.errors import RnrError
from rnr_core.rules import CATEGORIES

TRUST = {True: "ok", False: "judge not trustworthy for this category", None: "too few labels to tell"}

store = state.store()
st.title("Judge audit")
# Only the open tab is computed: the agreement report reads every label pair.
label_tab, agreement_tab = st.tabs(["Label verdicts", "Agreement"], key="audit_tab", on_change="rerun")


def label(item: dict) -> None:
    """One (sample, rule, verdict) to check, with the sample it is about."""
    sample = store.review_sample(item["sample_id"])
    st.markdown(f"**Sample {item['sample_id']} · rule {esc(item['rule_id'])}** ({esc(item['category'])})")
    st.text(item["rule_text"])
    st.caption(esc("Why it is here: " + "; ".join(item["reasons"])))
    widgets.verdict_chips([v for v in sample["verdicts"] if v["rule_id"] == item["rule_id"]])
    if item.get("rationale"):
        st.text(f"Judge's rationale: {item['rationale']}")
    widgets.conversation(sample["messages"], sample["response"])
    with st.form(f"label-{item['sample_id']}-{item['rule_id']}"):
        verdict = st.radio("Does the response follow this rule?", ["pass", "fail"], horizontal=True)
        note = st.text_input("Note (optional)")
        if st.form_submit_button("Save label", type="primary"):
            try:
                store.label_verdict(
                    item["sample_id"], item["rule_id"], verdict, state.reviewer(), note or None
                )
            except RnrError as exc:
                st.error(esc(exc))
            else:
                st.session_state["audit_saved"] = (
                    f"Saved: {verdict} on sample {item['sample_id']}, rule {item['rule_id']}."
                )
                st.rerun()


def label_view() -> None:
    if st.session_state.get("audit_saved"):
        st.success(esc(st.session_state.pop("audit_saved")))
    category = st.selectbox("Category", ["any", *CATEGORIES], key="audit_category")
    queue = store.audit_queue(category=None if category == "any" else category, limit=20)
    if not queue:
        st.info("Nothing left to check: every verdict here has a human label.")
    else:
        st.dataframe(
            [
                {k: q[k] for k in ("sample_id", "rule_id", "category", "judge", "verdict", "risk")}
                for q in queue
            ],
            hide_index=True,
        )
        label(queue[0])


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


def report_rows(groups: dict) -> list[dict]:
    rows = []
    for key, r in groups.items():
        ci = r.get("kappa_ci95")
        rows.append(
            {
                "judge / category": " · ".join(key) if isinstance(key, tuple) else key,
                "labels": r["n"],
                "accuracy": r["accuracy"],
                "kappa": r["kappa"],
                "kappa 95% CI": f"{ci[0]:.2f} – {ci[1]:.2f}" if ci else "",
                "trust": TRUST[r["trustworthy"]],
            }
        )
    return rows


def agreement_view() -> None:
    report = agreement_report(store)
    if not report["by_judge"]:
        st.info("No human labels yet: label some verdicts first.")
    else:
        st.dataframe(report_rows(report["by_judge"]), hide_index=True)
        per_category = {(j, c): r for j, by_c in report["by_category"].items() for c, r in by_c.items()}
        st.dataframe(report_rows(per_category), hide_index=True)
        for judge, result in report["by_judge"].items():
            st.plotly_chart(confusion_chart(result, f"{judge}: human vs judge"))


if label_tab.open:
    with label_tab:
        label_view()
if agreement_tab.open:
    with agreement_tab:
        agreement_view()
