"""Edits of a sample: a version check, a revision history with diffs, and revert."""

import json

from rnr_core.errors import NotFound, VersionConflict
from rnr_core.review import clean_messages, clean_name, clean_rules, clean_text, revision_diff
from rnr_core.rules import render_system_prompt
from rnr_core.store.db import Busy
from rnr_core.store.derived import categories_of, kinds_of

PARTS = ("role", "rules", "system_prompt", "messages", "response")


class _Stale(Exception):
    """The sample's version moved past the one the edit was based on."""


_EFFECTIVE = (
    "coalesce(s.edited_role, p.role) AS role, coalesce(s.edited_rules, p.rules) AS rules, "
    "coalesce(s.edited_prompt, p.text) AS system_prompt"
)


class EditQueries:
    def _state(self, sample_id: int) -> dict:
        """The sample's parts as now in effect, with its version and its generated role and rules."""
        row = self._one(
            f"SELECT s.id, s.version, s.model, s.created_at, s.messages, s.response, {_EFFECTIVE}, "
            "p.role AS generated_role, p.rules AS generated_rules, p.text AS generated_prompt "
            "FROM samples s JOIN system_prompts p ON p.id = s.system_prompt_id WHERE s.id = ?",
            [sample_id],
        )
        if row is None:
            raise NotFound(f"No sample with id {sample_id}; nothing was changed. Reload the review queue.")
        for field in ("messages", "rules", "generated_rules"):
            row[field] = json.loads(row[field])
        return row

    def save_edit(
        self,
        sample_id: int,
        base_version: int,
        author: str,
        role: str | None = None,
        rules: list[dict] | None = None,
        messages: list[dict] | None = None,
        response: str | None = None,
    ) -> dict:
        """Apply an edit (None leaves a part unchanged) made on version `base_version`; returns the
        new version, the revision number and the diff. A stale base keeps the edit as an unapplied
        revision and raises VersionConflict."""
        edit = {
            "role": None if role is None else clean_text(role, "role"),
            "rules": rules,
            "messages": None if messages is None else clean_messages(messages),
            "response": None if response is None else clean_text(response, "response"),
        }
        return self._edit(sample_id, base_version, clean_name(author, "author"), "edit", edit)

    def revert(self, sample_id: int, revision: int, author: str, base_version: int) -> dict:
        """Make an earlier revision (or an unapplied draft) the sample's content again, as a new revision."""
        rev = next((r for r in self.revisions(sample_id) if r["revision"] == revision), None)
        if rev is None:
            raise NotFound(f"Sample {sample_id} has no revision {revision}; its history lists the revisions.")
        edit = {part: rev[part] for part in ("role", "rules", "messages", "response")}
        return self._edit(sample_id, base_version, clean_name(author, "author"), "revert", edit)

    def revisions(self, sample_id: int) -> list[dict]:
        """Every saved state, oldest first, each with its diff against the applied one before it."""
        rows = self._rows("SELECT * FROM sample_revisions WHERE sample_id = ? ORDER BY revision", [sample_id])
        applied = None
        for row in rows:
            row["rules"], row["messages"] = json.loads(row["rules"]), json.loads(row["messages"])
            row["diff"] = revision_diff(applied, row) if applied else ""
            if row["applied"]:
                applied = row
        return rows

    def _edit(self, sample_id: int, base_version: int, author: str, action: str, edit: dict) -> dict:
        try:
            return self.retrying(lambda: self._apply_edit(sample_id, base_version, author, action, edit))
        except (_Stale, Busy):
            pass  # a true version conflict, or one that outlasted the retries: keep both versions
        draft = self.short_write(lambda: self._save_draft(sample_id, author, edit), "this sample")
        raise VersionConflict(
            f"Another reviewer saved sample {sample_id} first. Your edit is kept as revision {draft}; "
            "reload the sample to see both versions (revert to revision "
            f"{draft} to apply yours).",
            current=self.review_sample(sample_id),
            draft_revision=draft,
        )

    def _apply_edit(self, sample_id: int, base_version: int, author: str, action: str, edit: dict) -> dict:
        with self.transaction():
            cur = self._state(sample_id)
            new = _merged(cur, edit)
            if cur["version"] != base_version:
                raise _Stale
            if all(new[p] == cur[p] for p in PARTS):
                return {"version": cur["version"], "revision": None, "diff": ""}
            # The state in effect is the last applied revision (the generated one, 0, before any edit).
            cur["revision"] = self._scalar(
                "SELECT coalesce(max(revision), 0) FROM sample_revisions WHERE sample_id = ? AND applied",
                [sample_id],
            )
            self._write_sample(cur, new)
            new["revision"] = self._add_revision(cur, new, author, action, applied=True)
            self.con.execute(
                "UPDATE verdicts SET stale = true WHERE sample_id = ? AND NOT stale", [sample_id]
            )
            self.con.execute("DELETE FROM audit_verdicts WHERE sample_id = ?", [sample_id])
            self.con.execute("DELETE FROM rule_outcomes WHERE sample_id = ?", [sample_id])  # Home: as stale
            self._log_action(sample_id, action, author, note=f"revision {new['revision']}")
        return {"version": cur["version"] + 1, "revision": new["revision"], "diff": revision_diff(cur, new)}

    def _save_draft(self, sample_id: int, author: str, edit: dict) -> int:
        with self.transaction():
            cur = self._state(sample_id)
            revision = self._add_revision(cur, _merged(cur, edit), author, "conflict", applied=False)
            self._log_action(sample_id, "conflict", author, note=f"revision {revision}")
        return revision

    def _write_sample(self, cur: dict, new: dict) -> None:
        """Store the new parts; role and rules equal to the generated ones are stored as NULL."""
        role = new["role"] if new["role"] != cur["generated_role"] else None
        rules = json.dumps(new["rules"]) if new["rules"] != cur["generated_rules"] else None
        prompt = new["system_prompt"] if role or rules else None
        self.con.execute(
            "UPDATE samples SET version = version + 1, edited_role = ?, edited_rules = ?, edited_prompt = ?, "
            "messages = ?, response = ?, verdict_failed = false, verdict_unsure = false, "
            "verdict_disagree = false, updated_at = current_timestamp WHERE id = ?",
            [role, rules, prompt, json.dumps(new["messages"]), new["response"], cur["id"]],
        )
        self.con.execute(
            f"UPDATE samples SET edited_kinds = {kinds_of('edited_rules')}, "
            f"edited_categories = {categories_of('edited_rules')} WHERE id = ?",
            [cur["id"]],
        )

    def _add_revision(self, cur: dict, new: dict, author: str, action: str, applied: bool) -> int:
        """Write the new state as the next revision, after the generated state (revision 0) if the
        sample has no history yet."""
        last = self._scalar("SELECT max(revision) FROM sample_revisions WHERE sample_id = ?", [cur["id"]])
        if last is None:
            self._insert_revision(cur, 0, cur["model"], "generated", True, cur["created_at"])
            last = 0
        self._insert_revision(new, last + 1, author, action, applied)
        return last + 1

    def _insert_revision(self, state: dict, revision: int, author: str, action: str, applied: bool, at=None):
        self.con.execute(
            "INSERT INTO sample_revisions (sample_id, revision, author, action, role, rules, system_prompt, "
            "messages, response, applied, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "coalesce(?, current_timestamp))",
            [
                state["id"],
                revision,
                author,
                action,
                state["role"],
                json.dumps(state["rules"]),
                state["system_prompt"],
                json.dumps(state["messages"]),
                state["response"],
                applied,
                at,
            ],
        )

    def _log_action(self, sample_id: int, action: str, reviewer: str, reason=None, note=None) -> None:
        self.con.execute(
            "INSERT INTO review_actions (sample_id, action, reviewer, reason, note) VALUES (?, ?, ?, ?, ?)",
            [sample_id, action, reviewer, reason, note],
        )


def _merged(cur: dict, edit: dict) -> dict:
    """The sample's parts after an edit; the prompt text is re-rendered when the role or rules change."""
    new = {"id": cur["id"]}
    new["role"] = edit["role"] if edit["role"] is not None else cur["role"]
    new["rules"] = clean_rules(edit["rules"], cur["rules"]) if edit["rules"] is not None else cur["rules"]
    if (new["role"], new["rules"]) == (cur["generated_role"], cur["generated_rules"]):
        new["system_prompt"] = cur["generated_prompt"]
    elif (new["role"], new["rules"]) != (cur["role"], cur["rules"]):
        new["system_prompt"] = render_system_prompt(new["role"], new["rules"])
    else:
        new["system_prompt"] = cur["system_prompt"]
    for part in ("messages", "response"):
        new[part] = edit[part] if edit[part] is not None else cur[part]
    return new
