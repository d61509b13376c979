"""The pieces of the Review page: filters, queue, sample, editor, history and bulk actions."""

import streamlit as st

from rnr_app import state, widgets
from rnr_core.errors import RnrError, VersionConflict
from rnr_core.review import REJECT_REASONS, VERDICT_FILTERS, QueueFilter
from rnr_core.rules import CATEGORIES, KINDS
from rnr_core.store import SAMPLE_STATUSES

ANY = "any"


def _pick(label: str, options, key: str, fmt=str):
    value = st.selectbox(label, [ANY, *options], key=key, format_func=lambda o: o if o == ANY else fmt(o))
    return None if value == ANY else value


def filters(store) -> QueueFilter:
    """The queue's filters, applied together when the form is submitted."""
    with st.expander("Filters and search", expanded=False), st.form("filters"):
        c = st.columns(4)
        with c[0]:
            status = _pick("Status", SAMPLE_STATUSES, "f_status")
            dataset = _pick("Dataset", store.dataset_names(), "f_dataset")
        with c[1]:
            run_id = _pick("Run", list(store.run_statuses()), "f_run")
            kind = _pick("Rule kind", ["free-form", *sorted(KINDS)], "f_kind")
        with c[2]:
            category = _pick("Rule category", sorted(CATEGORIES), "f_category")
            verdict = _pick("Verdict", list(VERDICT_FILTERS), "f_verdict", VERDICT_FILTERS.get)
        with c[3]:
            reviewer = st.text_input("Reviewer", key="f_reviewer")
            search = st.text_input("Search text", key="f_search")
        if st.form_submit_button("Apply"):
            st.session_state["queue_after"] = None
    return QueueFilter(status, dataset, run_id, kind, category, verdict, reviewer or None, search or None)


def queue_table(page: list[dict], current: int) -> None:
    rows = [{"id": r["id"], "status": r["status"], "instruction": r["instruction"]} for r in page]
    picked = st.dataframe(rows, hide_index=True, on_select="rerun", selection_mode="single-row", key="queue")
    chosen = picked.selection.rows if picked else []
    if chosen and page[chosen[0]]["id"] != current:
        st.session_state["review_id"] = page[chosen[0]]["id"]
        st.rerun()
    c = st.columns(2)
    if c[0].button("First page"):
        st.session_state["queue_after"] = None
        st.rerun()
    if c[1].button("Next page") and len(page) == 20:
        st.session_state["queue_after"] = page[-1]["id"]
        st.rerun()


def sample_view(sample: dict) -> None:
    """Role, rules with every judge's verdict, the conversation and the response."""
    reason = REJECT_REASONS.get(sample.get("reject_reason"), "")
    st.markdown(f"**Sample {sample['id']}** · {sample['status']} {reason and '· ' + reason}")
    st.caption(
        widgets.esc(
            f"{sample['dataset']} · {sample['run_id']} · {sample['kind']} · version {sample['version']}"
        )
    )
    st.text(sample["role"])
    by_rule: dict[str, list[dict]] = {}
    for v in sample["verdicts"]:
        by_rule.setdefault(v["rule_id"], []).append(v)
    for rule in sample["rules"]:
        st.text(f"{rule['id']}. {rule['text']}  [{rule['category']}, {rule.get('kind') or 'free-form'}]")
        widgets.verdict_chips(by_rule.get(rule["id"], []))
    widgets.conversation(sample["messages"], sample["response"])


def edit_form(store, sample: dict) -> None:
    """Edit role, rules, user turns and response, from the version this session opened; saving
    checks that nobody saved in between, so a concurrent edit is reported, not overwritten."""
    key = f"opened-{sample['id']}"
    opened = st.session_state.setdefault(
        key, {k: sample[k] for k in ("version", "role", "rules", "messages", "response")}
    )
    if opened["version"] != sample["version"]:
        st.info(
            f"This sample changed since you opened it (version {opened['version']} → {sample['version']})."
        )
        if st.button("Reload the latest version"):
            del st.session_state[key]
            st.rerun()
    with st.form(f"edit-{sample['id']}"):
        role = st.text_area("Role", opened["role"])
        rules = [dict(r, text=st.text_area(f"Rule {r['id']}", r["text"])) for r in opened["rules"]]
        messages = [
            dict(m, content=st.text_area(f"{m['role']} turn {i}", m["content"]))
            for i, m in enumerate(opened["messages"], 1)
        ]
        response = st.text_area("Response", opened["response"], height=200)
        if st.form_submit_button("Save edit"):
            _save(
                store,
                sample["id"],
                opened["version"],
                role=role,
                rules=rules,
                messages=messages,
                response=response,
            )
    if st.session_state.get("last_diff"):
        st.code(st.session_state["last_diff"], language="diff")


def _save(store, sample_id: int, base_version: int, **changes) -> None:
    try:
        saved = store.save_edit(sample_id, base_version, state.reviewer(), **changes)
    except VersionConflict as exc:
        st.warning(widgets.esc(exc))
        return
    except RnrError as exc:
        st.error(widgets.esc(exc))
        return
    st.session_state["last_diff"] = saved["diff"]
    st.session_state.pop(f"opened-{sample_id}", None)
    st.rerun()


def history(store, sample: dict) -> None:
    if not sample.get("revision_count"):
        st.caption("No edits yet.")
        return
    with st.container(border=True):
        for rev in reversed(store.revisions(sample["id"])):
            applied = "" if rev["applied"] else " (not applied: saved during a conflict)"
            st.markdown(
                f"**Revision {rev['revision']}** · {rev['action']} by {widgets.esc(rev['author'])}{applied}"
            )
            st.caption(str(rev["created_at"]))
            if rev["diff"]:
                st.code(rev["diff"], language="diff")
            if st.button(f"Revert to revision {rev['revision']}", key=f"revert-{rev['revision']}"):
                store.revert(sample["id"], rev["revision"], state.reviewer(), sample["version"])
                st.rerun()


def rejudge(sample: dict) -> None:
    stale = any(v.get("stale") for v in sample["verdicts"])
    if st.button("Re-judge" + (" (verdicts are stale)" if stale else "")):
        try:
            spec = state.model_settings().resolved_spec()
        except RnrError as exc:  # the sidebar's model is incomplete: say what is missing
            st.error(widgets.esc(exc))
        else:
            st.session_state["rejudge_job"] = state.jobs().start(
                "judge", sample_ids=[sample["id"]], judge=spec
            )
    widgets.job_panel("rejudge_job", "Re-judging")


def bulk(store, flt: QueueFilter) -> None:
    """Accept or reject everything in the filter, after a confirmation that says how many."""
    with st.expander("Bulk actions"):
        c = st.columns(2)
        if c[0].button("Accept all in filter…"):
            st.session_state["bulk"] = "accept"
        if c[1].button("Reject all in filter…"):
            st.session_state["bulk"] = "reject"
        action = st.session_state.get("bulk")
        if not action:
            return
        n = store.queue_count(flt)
        reason = st.session_state.get("reject_reason") if action == "reject" else None
        st.warning(f"{action.capitalize()} all {n} samples matching the filters?")
        c = st.columns(2)
        if c[0].button(f"Yes, {action} {n} samples", type="primary"):
            done = store.review_filter(flt, action, state.reviewer(), reason)
            st.session_state["bulk"] = None
            st.success(f"{done} samples marked {action}ed.")
        if c[1].button("Cancel", key="bulk-cancel"):
            st.session_state["bulk"] = None
            st.rerun()
