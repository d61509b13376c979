"""The pieces of the Review page: filters, queue, sample, editor, history, bulk actions and notices.

Every input and message here belongs to one object: a note, a reject reason and an unsaved edit are
kept per sample, and a message is shown only beside the sample (or filter) it reports on.
"""

import streamlit as st

from rnr_app import state, widgets
from rnr_core.calibration import calibration
from rnr_core.errors import RnrError
from rnr_core.models.names import shown
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


def action_inputs(sample: dict) -> None:
    """The reject reason and note for the next action on this sample only. The widgets keep one key
    (a new widget per sample would cost every J, K and A a remount), and start over for each sample:
    its own stored reason, and no note."""
    if st.session_state.get("inputs_for") != sample["id"]:
        stored = sample.get("reject_reason")
        fresh = {"reject_reason": stored if stored in REJECT_REASONS else REASONS[0], "review_note": ""}
        for key, value in fresh.items():
            if st.session_state.get(key) != value:  # an unchanged widget is not sent to the browser again
                st.session_state[key] = value
        st.session_state["inputs_for"] = sample["id"]
    c = st.columns(2)
    c[0].selectbox("Reject reason", REASONS, format_func=REJECT_REASONS.get, key="reject_reason")
    hint = f"Stored with your next action on sample {sample['id']}"
    c[1].text_input("Note", key="review_note", placeholder=hint)


def inputs(sample_id: int) -> tuple[str | None, str | None]:
    """The reject reason and note given for this sample; none if the inputs shown were another's."""
    if st.session_state.get("inputs_for") != sample_id:
        return None, None
    return st.session_state.get("reject_reason"), st.session_state.get("review_note") or None


def used(sample_id: int) -> None:
    """The note went with the action just stored: the next action on this sample starts without one."""
    if st.session_state.get("inputs_for") == sample_id:
        st.session_state["review_note"] = ""


def header(sample: dict) -> None:
    """Which sample this is, its review status with its own stored reason and note, and where it is from."""
    reason = REJECT_REASONS.get(sample.get("reject_reason"), "")
    st.markdown(f"**Sample {sample['id']}** · {sample['status']} {reason and '· ' + reason}")
    if sample.get("review_note"):
        st.caption(widgets.esc(f"Note by {sample.get('reviewer') or 'a reviewer'}: {sample['review_note']}"))
    draft = " · unsaved edit (kept while you move between samples)" if has_draft(sample["id"]) else ""
    where = f"{sample['dataset']} · {sample['run_id']} · {sample['kind']} · version {sample['version']}"
    st.caption(widgets.esc(where + draft))


def verdicts_by_rule(sample: dict) -> dict[str, list[dict]]:
    """The sample's verdicts grouped by rule id."""
    grouped: dict[str, list[dict]] = {}
    for v in sample["verdicts"]:
        grouped.setdefault(v["rule_id"], []).append(v)
    return grouped


def sample_view(sample: dict) -> None:
    """Role, rules with every judge's verdict, the conversation and the response."""
    st.text(sample["role"])
    by_rule = verdicts_by_rule(sample)
    for rule in sample["rules"]:
        st.text(f"{rule['id']}. {rule['text']}  [{rule['category']}, {rule.get('kind') or 'free-form'}]")
        widgets.verdict_chips(by_rule.get(rule["id"], []))
    judge_calibration(sample)
    widgets.conversation(sample["messages"], sample["response"])


def judge_calibration(sample: dict) -> None:
    """Beside an LLM judge's verdicts, how far it agrees with code on checkable rules, and the warning."""
    for judge in sorted({v["judge"] for v in sample["verdicts"] if v["judge"].startswith("llm:")}):
        calibration_line(judge)


def calibration_line(judge: str) -> None:
    """One LLM judge's kappa against the checkers, as a warning when it is not to be trusted."""
    report = _calibration(state.store().path, judge)
    if not report["n"]:
        st.caption(
            widgets.esc(
                f"{shown(judge)} has not been checked against code yet: Calibrate judge on Judge audit "
                "says how far to trust its verdicts."
            )
        )
        return
    line = (
        f"{shown(judge)} against the checkers: kappa {widgets.kappa(report['overall'])} on {report['n']:,} "
    )
    line += "checkable rules."
    if report["warning"]:
        st.warning(widgets.esc(f"{line} {report['warning']}"))
    elif report["trusted"] is None:
        st.caption(widgets.esc(f"{line} Too few to tell whether to trust it on free-form rules."))
    else:
        st.caption(widgets.esc(line))


@st.cache_data(ttl=30, max_entries=16, show_spinner=False)
def _calibration(path: str, judge: str) -> dict:
    """A judge's calibration, at most 30 s old: it moves slowly, and Review reruns on every key."""
    return calibration(state.store(), judge=judge)


def has_draft(sample_id: int) -> bool:
    """Whether this session holds an unsaved edit of the sample (see review_edit)."""
    return sample_id in st.session_state.get("drafts", {})


def rejudge(sample: dict) -> None:
    stale = any(v.get("stale") for v in sample["verdicts"])
    if state.may("judge") and st.button("Re-judge" + (" (verdicts are stale)" if stale else "")):
        try:
            state.acting("judge")
            spec = state.model_settings().resolved_spec()
        except RnrError as exc:  # the sidebar's model is incomplete: say what is missing
            widgets.error(exc)
        else:
            st.session_state["rejudge_job"] = state.jobs().start(
                "judge", sample_ids=[sample["id"]], judge=spec
            )
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
        done = state.store().review_filter(flt, action, state.acting("review"), reason)
    except RnrError as exc:
        notify("bulk", flt, "error", exc.says("app"))
        return
    _ask(None)
    why = f" ({REJECT_REASONS[reason]})" if reason else ""
    notify("bulk", flt, "success", f"{plural(done, 'sample')} marked {REVIEW_ACTIONS[action]}{why}.")


def decisions(standing: list[dict]) -> None:
    """Who has decided this sample so far, and how: each person's accept or reject, and any ruling."""
    if not standing:
        st.caption("Nobody has decided this sample yet.")
        return
    words = [
        f"{d['reviewer']}{' (adjudicator)' if d['adjudicates'] else ''}: {d['decision']}"
        + (f" ({REJECT_REASONS.get(d['reason'], d['reason'])})" if d["reason"] else "")
        for d in standing
    ]
    st.caption(widgets.esc("Decisions so far: " + " · ".join(words)))
