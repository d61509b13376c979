"""Editing on the Review page: one draft per sample, kept until saved or discarded, and the history.

A draft is kept in session state by sample id, so J, K and the Edit toggle never lose it and a
save applies it to its own sample only; each save's or revert's message is about that sample.
"""

import streamlit as st

from rnr_app import state, widgets
from rnr_app.review_parts import EDITABLE, notify, verdicts_by_rule
from rnr_core.errors import RnrError, VersionConflict


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
    by_rule, fields = verdicts_by_rule(sample), _fields(sample["id"], base)
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
        saved = state.store().save_edit(
            sample_id, base["version"], state.acting("edit"), **_changes(base, texts)
        )
    except VersionConflict as exc:
        _discard(sample_id, fields)  # the edit is stored as a revision; its history shows it
        notify("sample", sample_id, "warning", exc.says("app"))
        return
    except RnrError as exc:
        notify("sample", sample_id, "error", exc.says("app"))
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
            if not same and state.may("edit"):
                st.button(
                    f"Revert to revision {rev['revision']}",
                    key=f"revert-{sample['id']}-{rev['revision']}",
                    on_click=_revert,
                    args=(sample["id"], rev["revision"], sample["version"]),
                )


def _revert(sample_id: int, revision: int, version: int) -> None:
    try:
        done = state.store().revert(sample_id, revision, state.acting("edit"), version)
    except RnrError as exc:
        kind = "warning" if isinstance(exc, VersionConflict) else "error"
        notify("sample", sample_id, kind, exc.says("app"))
        return
    if done["diff"]:
        notify("sample", sample_id, "diff", done["diff"])
    else:
        notify("sample", sample_id, "info", f"Sample {sample_id} already matched revision {revision}.")
