"""The pieces of the Judge audit page: the queue with clickable rows, and the label form with its keys.

The item being labelled is chosen by clicking its row (the first one not skipped otherwise); Pass,
Fail and Skip act on that item only, and their message names it.
"""

import streamlit as st

from rnr_app import login, state, widgets
from rnr_core import audit
from rnr_core.audit import MISSING
from rnr_core.calibration import calibration
from rnr_core.errors import RnrError
from rnr_core.models.connection import use_model
from rnr_core.models.names import shown


def key_of(item: dict) -> tuple:
    return item["sample_id"], item["rule_id"], item["judge"]


def current(queue: list[dict]) -> dict:
    """The item picked last if still queued, else the first one not skipped, else the first."""
    picked = st.session_state.get("audit_item")
    skipped = st.session_state.get("audit_skipped", set())
    return (
        next((q for q in queue if key_of(q) == picked), None)
        or next((q for q in queue if key_of(q) not in skipped), None)
        or queue[0]
    )


def after(queue: list[dict], item: dict) -> tuple | None:
    """The key of the item below `item` (or above it, at the bottom): where Pass, Fail and Skip go next."""
    at = queue.index(item)
    rest = queue[at + 1 :] or queue[:at][-1:]
    return key_of(rest[0]) if rest else None


def queue_table(queue: list[dict], item: dict) -> None:
    """The queue, riskiest first; the item being labelled is the selected row, and a click picks another."""
    skipped = st.session_state.get("audit_skipped", set())
    rows = [
        {
            "Sample": q["sample_id"],
            "Rule": q["rule_id"],
            "Category": q["category"],
            "Judge": q["judge"],
            "Verdict": q["verdict"],
            "Risk": q["risk"],
            "Skipped": "yes" if key_of(q) in skipped else "",
        }
        for q in queue
    ]
    # A key per item: a new table, selected on the item's row, each time the item changes.
    picked = st.dataframe(
        rows,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        selection_default={"selection": {"rows": [queue.index(item)]}},
        placeholder=MISSING,
        key=f"audit-queue-{'-'.join(map(str, key_of(item)))}",
    )
    chosen = picked.selection.rows if picked else []
    if chosen and queue[chosen[0]] is not item:
        st.session_state["audit_item"] = key_of(queue[chosen[0]])
        st.rerun()


def show_item(store, item: dict) -> None:
    """One (sample, rule, verdict) to check, with the sample it is about."""
    sample = store.review_sample(item["sample_id"])
    rule, category = widgets.esc(item["rule_id"]), widgets.esc(item["category"])
    st.markdown(f"**Sample {item['sample_id']} · rule {rule}** ({category})")
    st.text(item["rule_text"] or MISSING)
    st.caption(widgets.esc("Why it is here: " + "; ".join(item["reasons"])))
    widgets.verdict_chips([v for v in sample["verdicts"] if v["rule_id"] == item["rule_id"]])
    if item.get("rationale"):
        st.text(f"Judge's rationale: {item['rationale']}")
    widgets.conversation(sample["messages"], sample["response"])


def label_form(item: dict, then: tuple | None) -> None:
    """Pass (P), Fail (F) or Skip (S) this item; nothing is chosen until one is pressed."""
    if not state.may("label"):
        login.cannot("label", "labelling verdicts")
        return
    key = "-".join(map(str, key_of(item)))
    st.markdown("**Does the response follow this rule?**")
    st.text_input("Note (optional)", key=f"audit-note-{key}")
    c = st.columns(3)
    c[0].button("Pass", shortcut="P", on_click=_label, args=(item, "pass", then), key=f"pass-{key}")
    c[1].button("Fail", shortcut="F", on_click=_label, args=(item, "fail", then), key=f"fail-{key}")
    c[2].button("Skip", shortcut="S", on_click=_skip, args=(item, then), key=f"skip-{key}")
    st.caption("Keys: P pass · F fail · S skip (it stays in the queue, marked skipped).")


def _label(item: dict, verdict: str, then: tuple | None) -> None:
    note_key = f"audit-note-{'-'.join(map(str, key_of(item)))}"
    note = st.session_state.get(note_key) or None
    where = f"sample {item['sample_id']}, rule {item['rule_id']}"
    try:
        state.store().label_verdict(item["sample_id"], item["rule_id"], verdict, state.acting("label"), note)
    except RnrError as exc:
        st.session_state["audit_notice"] = ("error", f"Not saved ({where}): {exc.says('app')}")
        return
    st.session_state.pop(note_key, None)
    st.session_state["audit_item"] = then
    st.session_state["audit_notice"] = ("success", f"Saved: {verdict} on {where}.")


def _skip(item: dict, then: tuple | None) -> None:
    st.session_state.setdefault("audit_skipped", set()).add(key_of(item))
    st.session_state["audit_item"] = then
    st.session_state.pop("audit_notice", None)


def notice() -> None:
    """The outcome of the last Pass or Fail, once: it names the item it was about."""
    kept = st.session_state.pop("audit_notice", None)
    if kept:
        getattr(st, kept[0])(widgets.esc(kept[1]))


def agreement(store) -> tuple[dict, dict | None]:
    """The judges' agreement with people, and people's with each other (None without any label pair): each
    computed again only when the store has changed since (its change token), as the bootstraps take
    seconds and the tab redraws on every click."""
    return _agreement(store.path, store.change_token())


@st.cache_data(max_entries=4, show_spinner="Computing agreement…")
def _agreement(path: str, token: tuple) -> tuple[dict, dict | None]:
    store = state.store()
    judges = audit.agreement_report(store)
    return judges, audit.human_agreement_report(store) if judges["by_judge"] else None


# ---- the judge against the checkers (calibration) ---------------------------------------------

CALIBRATION_JOB = "calibrate_job"


def calibrate_button(store) -> None:
    """Maintainers ask the sidebar's model, as LLM judge, about verifiable rules too, for one run or all."""
    if not state.may("judge"):
        login.cannot("judge", "calibrating the judge")
        return
    runs = [r["id"] for r in store.list_runs()]
    c = st.columns([2, 1])
    scope = c[0].selectbox("Samples", [None, *runs], format_func=lambda r: r or "every run", key="cal_run")
    c[1].caption(widgets.esc(f"Judge: {state.active_spec()} (the sidebar's model)"))
    help_text = (
        "The judge gives verdicts on rules code can check; its agreement with code says how far to trust it."
    )
    if st.button("Calibrate judge", help=help_text) and login.allowed("judge"):
        try:
            judge = use_model(state.model_settings()).spec
            job = state.jobs().start("judge", run_id=scope, judge=judge, calibrate=True)
        except RnrError as exc:
            widgets.error(exc)
            return
        st.session_state[CALIBRATION_JOB] = job
        st.rerun()
    widgets.job_panel(CALIBRATION_JOB, "Calibrating the judge")


def calibration_view(store, run_id: str | None = None) -> None:
    """The latest LLM judge against the checkers: per category accuracy, kappa with its interval, n."""
    report = calibration(store, run_id=run_id)
    if not report["judge"] or not report["n"]:
        st.info(
            "No calibration of a judge on these samples yet: press Calibrate judge, and the judge is checked "
            "against code. An evaluation calibrates its own judge: see Compare's Benchmark tab."
        )
        return
    judge, n = widgets.esc(shown(report["judge"])), report["n"]
    st.markdown(f"**{judge}** against the checkers on {n:,} checkable rules")
    if report["warning"]:
        st.warning(widgets.esc(report["warning"] + f" (kappa {widgets.kappa(report['overall'])})."))
    if report.get("untrusted_categories"):
        said = ", ".join(report["untrusted_categories"])
        st.warning(widgets.esc(f"Don't trust this judge on free-form rules of these categories: {said}."))
    rows = [("all categories", report["overall"]), *report["by_category"].items()]
    st.dataframe(
        [
            {
                "Category": name,
                "Accuracy": r["accuracy"],
                "Accuracy 95% interval": widgets.interval(r.get("accuracy_ci95"), percent=True),
                "Cohen's kappa": r["kappa"],
                "Kappa 95% interval": widgets.interval(r.get("kappa_ci95")),
                "Rules": r["n"],
            }
            for name, r in rows
        ],
        hide_index=True,
        column_config={
            "Accuracy": st.column_config.NumberColumn(format="percent"),
            "Cohen's kappa": st.column_config.NumberColumn(format="%.2f"),
        },
    )
    if report.get("skipped"):
        st.caption(widgets.esc(f"{report['skipped']:,} verdicts left out: the judge's reply never parsed."))
