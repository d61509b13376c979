"""The pieces of the Review page: filters, queue, sample, editor, history, bulk actions and notices.

Every input and message here belongs to one object: a note, a reject reason and an unsaved edit are
kept per sample, and a message is shown only beside the sample (or filter) it reports on.
"""

import streamlit as st

from rnr_app import state, widgets
from rnr_core.errors import RnrError, VersionConflict
from rnr_core.review import REJECT_REASONS, REVIEW_ACTIONS, VERDICT_FILTERS, QueueFilter, plural
from rnr_core.rules import CATEGORIES, KINDS
from rnr_core.store import SAMPLE_STATUSES

ANY = "any"
REASONS = list(REJECT_REASONS)
EDITABLE = ("role", "rules", "messages", "response")


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


# --- messages, each tied to what it reports on -----------------------------------------------------


def notify(slot: str, about, kind: str, text: str) -> None:
    """Keep a message for the next run, about one object (a sample id, a filter) in one place."""
    st.session_state[f"notice-{slot}"] = {"about": about, "kind": kind, "text": text}


def notice(slot: str, about) -> None:
    """Show the message kept for `slot` once, and only if it is about `about`; any other is dropped."""
    kept = st.session_state.pop(f"notice-{slot}", None)
    if not kept or kept["about"] != about:
        return
    if kept["kind"] == "diff":
        st.caption(f"Saved sample {about}: what changed")
        st.code(kept["text"], language="diff", wrap_lines=True)
    else:
        getattr(st, kept["kind"])(widgets.esc(kept["text"]))


# --- the queue and the sample ----------------------------------------------------------------------


def queue_table(page: list[dict], current: int) -> None:
    """The page of the queue; the current sample's row is the selected one, and a click opens a row."""
    drafts = st.session_state.get("drafts", {})
    rows = [
        {
            "id": r["id"],
            "status": r["status"],
            "edit": "unsaved" if r["id"] in drafts else "",
            "instruction": r["instruction"],
        }
        for r in page
    ]
    at = next(i for i, r in enumerate(page) if r["id"] == current)
    # A key per current sample: a new table, selected on the current row, each time the sample changes.
    picked = st.dataframe(
        rows,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        selection_default={"selection": {"rows": [at]}},
        key=f"queue-{current}",
    )
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


def reason_key(sample_id: int) -> str:
    return f"reject_reason-{sample_id}"


def note_key(sample_id: int) -> str:
    return f"review_note-{sample_id}"


def action_inputs(sample: dict) -> None:
    """The reject reason and note for the next action on this sample only (keyed by its id)."""
    stored = sample.get("reject_reason")
    c = st.columns(2)
    c[0].selectbox(
        "Reject reason",
        REASONS,
        index=REASONS.index(stored) if stored in REJECT_REASONS else 0,
        format_func=REJECT_REASONS.get,
        key=reason_key(sample["id"]),
    )
    hint = f"Stored with your next action on sample {sample['id']}"
    c[1].text_input("Note", key=note_key(sample["id"]), placeholder=hint)


def inputs(sample_id: int) -> tuple[str | None, str | None]:
    """The reject reason and note given for this sample, and for no other."""
    return st.session_state.get(reason_key(sample_id)), st.session_state.get(note_key(sample_id)) or None


def used(sample_id: int) -> None:
    """The note went with the action just stored: the next action on this sample starts without one."""
    st.session_state.pop(note_key(sample_id), None)


def header(sample: dict) -> None:
    """Which sample this is, its review status with its own stored reason and note, and where it is from."""
    reason = REJECT_REASONS.get(sample.get("reject_reason"), "")
    st.markdown(f"**Sample {sample['id']}** · {sample['status']} {reason and '· ' + reason}")
    if sample.get("review_note"):
        st.caption(widgets.esc(f"Note by {sample.get('reviewer') or 'a reviewer'}: {sample['review_note']}"))
    draft = " · unsaved edit (kept while you move between samples)" if has_draft(sample["id"]) else ""
    where = f"{sample['dataset']} · {sample['run_id']} · {sample['kind']} · version {sample['version']}"
    st.caption(widgets.esc(where + draft))


def _by_rule(sample: dict) -> dict[str, list[dict]]:
    by_rule: dict[str, list[dict]] = {}
    for v in sample["verdicts"]:
        by_rule.setdefault(v["rule_id"], []).append(v)
    return by_rule


def sample_view(sample: dict) -> None:
    """Role, rules with every judge's verdict, the conversation and the response."""
    st.text(sample["role"])
    by_rule = _by_rule(sample)
    for rule in sample["rules"]:
        st.text(f"{rule['id']}. {rule['text']}  [{rule['category']}, {rule.get('kind') or 'free-form'}]")
        widgets.verdict_chips(by_rule.get(rule["id"], []))
    widgets.conversation(sample["messages"], sample["response"])


# --- editing: one draft per sample, kept until saved or discarded ----------------------------------


def has_draft(sample_id: int) -> bool:
    return sample_id in st.session_state.get("drafts", {})


def _fields(sample_id: int, base: dict) -> list[tuple[str, str, str, dict | None]]:
    """(widget key, label, text in `base`, rule or None) of each editable text; keys name the version."""
    p = f"edit-{sample_id}-v{base['version']}"
    fields = [(f"{p}-role", "Role", base["role"], None)]
    fields += [(f"{p}-rule-{r['id']}", f"Rule {r['id']}", r["text"], r) for r in base["rules"]]
    fields += [
        (f"{p}-turn-{i}", f"{m['role']} turn {i}", m["content"], None)
        for i, m in enumerate(base["messages"], 1)
    ]
    return [*fields, (f"{p}-response", "Response", base["response"], None)]


def _changes(base: dict, texts: list[str]) -> dict:
    """save_edit's parts from the texts of _fields(base), in the same order."""
    n = len(base["rules"])
    return {
        "role": texts[0],
        "rules": [dict(r, text=t) for r, t in zip(base["rules"], texts[1 : 1 + n])],
        "messages": [dict(m, content=t) for m, t in zip(base["messages"], texts[1 + n : -1])],
        "response": texts[-1],
    }


def edit_form(sample: dict) -> None:
    """Edit role, rules, user turns and response in place of the read-only view. What is typed stays
    with this sample (J, K and the Edit toggle keep it) until saved or discarded; saving checks that
    nobody saved in between, so a concurrent edit is reported, not overwritten."""
    drafts = st.session_state.setdefault("drafts", {})
    draft = drafts.get(sample["id"])
    base = draft["base"] if draft else {k: sample[k] for k in ("version", *EDITABLE)}
    if base["version"] != sample["version"]:
        st.info(
            f"Sample {sample['id']} changed since you started this edit (version {base['version']} → "
            f"{sample['version']}). Save keeps your edit as a revision beside the other one; "
            "Discard edit opens the latest version."
        )
    by_rule, fields = _by_rule(sample), _fields(sample["id"], base)
    for key, label, text, rule in fields:
        if key not in st.session_state:
            st.session_state[key] = draft["texts"][key] if draft else text
        # Kept on change, in a callback: a J or K sent with the change leaves before this form redraws.
        st.text_area(
            label,
            key=key,
            height="content",
            on_change=_keep,
            args=(sample["id"], base, fields),
        )
        if rule:
            widgets.verdict_chips(by_rule.get(rule["id"], []))
    c = st.columns(2)
    c[0].button("Save edit", type="primary", on_click=_save, args=(sample["id"], base, fields))
    if sample["id"] in drafts:
        c[1].button("Discard edit", on_click=_discard, args=(sample["id"], fields))


def _keep(sample_id: int, base: dict, fields: list) -> None:
    """Keep what is typed as this sample's draft; a draft that matches the version edited is dropped."""
    texts = {key: st.session_state.get(key, text) for key, _, text, _ in fields}
    drafts = st.session_state.setdefault("drafts", {})
    if list(texts.values()) != [f[2] for f in fields]:
        drafts[sample_id] = {"base": base, "texts": texts}
    else:
        drafts.pop(sample_id, None)


def _discard(sample_id: int, fields: list) -> None:
    st.session_state.get("drafts", {}).pop(sample_id, None)
    for key, *_ in fields:
        st.session_state.pop(key, None)


def _save(sample_id: int, base: dict, fields: list) -> None:
    texts = [st.session_state.get(key, text) for key, _, text, _ in fields]
    try:
        saved = state.store().save_edit(sample_id, base["version"], state.reviewer(), **_changes(base, texts))
    except VersionConflict as exc:
        _discard(sample_id, fields)  # the edit is stored as a revision; its history shows it
        notify("sample", sample_id, "warning", str(exc))
        return
    except RnrError as exc:
        notify("sample", sample_id, "error", str(exc))
        return
    _discard(sample_id, fields)
    if saved["diff"]:
        notify("sample", sample_id, "diff", saved["diff"])
    else:
        notify("sample", sample_id, "info", f"Nothing to save: the edit leaves sample {sample_id} as it was.")


def history(store, sample: dict) -> None:
    """Every revision with its diff; Revert on each whose content differs from the current one."""
    if not sample.get("revision_count"):
        st.caption("No edits yet.")
        return
    revisions = store.revisions(sample["id"])
    current = max(r["revision"] for r in revisions if r["applied"])
    now = next(r for r in revisions if r["revision"] == current)
    with st.container(border=True):
        for rev in reversed(revisions):
            same = all(rev[p] == now[p] for p in EDITABLE)
            tag = " · current" if rev is now else (" · same as current" if same else "")
            applied = "" if rev["applied"] else " (not applied: saved during a conflict)"
            by = widgets.esc(rev["author"])
            st.markdown(f"**Revision {rev['revision']}** · {rev['action']} by {by}{applied}{tag}")
            st.caption(str(rev["created_at"]))
            if rev["diff"]:
                st.code(rev["diff"], language="diff", wrap_lines=True)
            if not same:
                st.button(
                    f"Revert to revision {rev['revision']}",
                    key=f"revert-{sample['id']}-{rev['revision']}",
                    on_click=_revert,
                    args=(sample["id"], rev["revision"], sample["version"]),
                )


def _revert(sample_id: int, revision: int, version: int) -> None:
    try:
        done = state.store().revert(sample_id, revision, state.reviewer(), version)
    except RnrError as exc:
        notify("sample", sample_id, "warning" if isinstance(exc, VersionConflict) else "error", str(exc))
        return
    if done["diff"]:
        notify("sample", sample_id, "diff", done["diff"])
    else:
        notify("sample", sample_id, "info", f"Sample {sample_id} already matched revision {revision}.")


def rejudge(sample: dict) -> None:
    stale = any(v.get("stale") for v in sample["verdicts"])
    if st.button("Re-judge" + (" (verdicts are stale)" if stale else "")):
        spec = state.model_settings().resolved_spec()
        job = state.jobs().start("judge", sample_ids=[sample["id"]], judge=spec)
        st.session_state["rejudge_job"] = job
    widgets.job_panel("rejudge_job", "Re-judging")


# --- bulk actions ----------------------------------------------------------------------------------


def bulk(store, flt: QueueFilter, n: int) -> None:
    """Accept or reject everything in the filter, after a confirmation that says how many and, for a
    rejection, which reason (picked there) every sample gets."""
    with st.expander("Bulk actions"):
        notice("bulk", flt)
        c = st.columns(2)
        c[0].button("Accept all in filter…", on_click=_ask, args=("accept",))
        c[1].button("Reject all in filter…", on_click=_ask, args=("reject",))
        action = st.session_state.get("bulk")
        if not action:
            return
        reason = None
        if action == "reject":
            reason = st.selectbox(
                "Reason for every rejected sample",
                REASONS,
                index=None,
                format_func=REJECT_REASONS.get,
                placeholder="Pick the reason to apply",
                key="bulk_reason",
            )
        given = f" as “{REJECT_REASONS[reason]}”" if reason else ""
        st.warning(f"{action.capitalize()} all {plural(n, 'sample')} matching the filters{given}?")
        c = st.columns(2)
        c[0].button(
            f"Yes, {action} {plural(n, 'sample')}",
            type="primary",
            on_click=_bulk,
            args=(flt, action, reason),
            disabled=action == "reject" and reason is None,
            help="Pick the reason first." if action == "reject" and reason is None else None,
        )
        c[1].button("Cancel", key="bulk-cancel", on_click=_ask, args=(None,))


def _ask(action: str | None) -> None:
    st.session_state["bulk"] = action
    st.session_state.pop("bulk_reason", None)


def _bulk(flt: QueueFilter, action: str, reason: str | None) -> None:
    try:
        done = state.store().review_filter(flt, action, state.reviewer(), reason)
    except RnrError as exc:
        notify("bulk", flt, "error", str(exc))
        return
    _ask(None)
    why = f" ({REJECT_REASONS[reason]})" if reason else ""
    notify("bulk", flt, "success", f"{plural(done, 'sample')} marked {REVIEW_ACTIONS[action]}{why}.")
