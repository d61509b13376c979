"""The review queue (filters and keyset pages in SQL) and accept / reject / reset actions."""

import json
import re

from rnr_core.errors import NotFound, ReviewError
from rnr_core.review import REJECT_REASONS, REVIEW_ACTIONS, QueueFilter, clean_name, excerpt
from rnr_core.store.decisions import DecisionQueries
from rnr_core.store.derived import labels_asked, refresh_audit_sql, refresh_outcomes_sql, reindex_sql
from rnr_core.store.edits import EditQueries
from rnr_core.store.samples import SAMPLE_STATUSES

_WINDOW = 4096  # ids in the first window a backward page scans
_WILD = ("\\", "%", "_")


def _contains(column: str, text: str) -> tuple[str, list]:
    """An ILIKE predicate: `column` contains `text` literally, ignoring case."""
    if not any(ch in text for ch in _WILD):
        return f"{column} ILIKE ?", [f"%{text}%"]
    escaped = text
    for ch in _WILD:
        escaped = escaped.replace(ch, "\\" + ch)
    # ESCAPE makes ILIKE several times slower, so rows are first matched with each wildcard
    # character standing for any one character (a close superset), then tested exactly.
    loose = re.sub(r"[\\%_]", "_", text)
    return f"({column} ILIKE ? AND {column} ILIKE ? ESCAPE '\\')", [f"%{loose}%", f"%{escaped}%"]


def _search(text: str) -> tuple[str, list]:
    """Text found in the conversation, the response or the system prompt in effect."""
    # Messages are stored as JSON, so they are searched for JSON's spelling of the text.
    parts = [
        _contains("s.messages", json.dumps(text)[1:-1]),
        _contains("s.response", text),
        _contains("s.edited_prompt", text),
    ]
    prompt, prompt_params = _contains("text", text)
    sql = " OR ".join(p[0] for p in parts)
    # A prompt edited away no longer counts: its own text was searched just above.
    sql += (
        " OR (s.edited_prompt IS NULL AND s.system_prompt_id IN "
        f"(SELECT id FROM system_prompts WHERE {prompt}))"
    )
    return f"({sql})", [v for p in parts for v in p[1]] + prompt_params


def _tagged(column: str):
    """A filter on the effective rules' kinds or categories: the edited sample's, else its prompt's."""
    sql = (
        f"((s.edited_{column} IS NULL AND s.system_prompt_id IN "
        f"(SELECT system_prompt_id FROM prompt_tags WHERE list_contains({column}, ?))) "
        f"OR list_contains(s.edited_{column}, ?))"
    )
    return lambda value: (sql, [value, value])


def _status(value: str) -> tuple[str, list]:
    if value not in SAMPLE_STATUSES:
        raise ReviewError(f"Unknown status {value!r}; use one of {', '.join(SAMPLE_STATUSES)}.")
    return "s.status = ?", [value]


# Verdict filters read flags that every verdict write keeps current (see store/derived.py).
_VERDICT_FLAGS = {
    "any_failed": "s.verdict_failed",
    "judge_unsure": "s.verdict_unsure",
    "disagree": "s.verdict_disagree",
}
# Each QueueFilter field: its SQL predicate on samples `s`, with its parameters.
_FILTERS = {
    "status": _status,
    "dataset": lambda v: (
        "s.run_id IN (SELECT r.id FROM runs r JOIN datasets d ON d.id = r.dataset_id WHERE d.name = ?)",
        [v],
    ),
    "run_id": lambda v: ("s.run_id = ?", [v]),
    "rule_kind": _tagged("kinds"),
    "category": _tagged("categories"),
    "verdict": lambda v: (_VERDICT_FLAGS[v], []),
    "reviewer": lambda v: ("s.reviewer = ?", [v]),
    "search": _search,
    # Samples with fewer decisions than asked, that this person has not decided and no adjudicator ruled on.
    "open_for": lambda v: (
        f"s.decisions < {labels_asked('review')} "
        "AND s.id NOT IN (SELECT sample_id FROM review_decisions WHERE reviewer = ? OR adjudicates)",
        [v.strip()],
    ),
}


def _where(flt: QueueFilter) -> tuple[str, list]:
    """The SQL predicate and parameters of a queue filter; blank fields do not filter."""
    clauses, params = ["true"], []
    for field, clause in _FILTERS.items():
        value = getattr(flt, field)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        sql, args = clause(value)
        clauses.append(sql)
        params += args
    return " AND ".join(clauses), params


class ReviewQueries(DecisionQueries, EditQueries):
    # --- the queue -------------------------------------------------------------------------------

    def queue(
        self, flt: QueueFilter, after_id: int | None = None, limit: int = 20, before_id: int | None = None
    ) -> list[dict]:
        """One page of samples matching `flt`, ascending by id: after `after_id`, or the page
        just before `before_id`."""
        where, params = _where(flt)
        if before_id is None:
            ids = self._ids_after(where, params, after_id, limit)
        else:
            ids = self._ids_before(where, params, before_id, limit, after_id)
        if not ids:
            return []
        rows = self._rows(
            "SELECT s.id, s.status, d.name AS dataset, s.run_id, s.kind, s.messages, s.reviewer, "
            "s.reject_reason FROM samples s JOIN runs r ON r.id = s.run_id "
            "JOIN datasets d ON d.id = r.dataset_id WHERE s.id BETWEEN ? AND ? AND list_contains(?, s.id) "
            "ORDER BY s.id",
            [min(ids), max(ids), ids],
        )
        for row in rows:
            row["instruction"] = excerpt(json.loads(row.pop("messages")))
        return rows

    def _ids_after(self, where: str, params: list, after_id: int | None, limit: int) -> list[int]:
        bound = "" if after_id is None else " AND s.id > ?"
        found = self.con.execute(
            f"SELECT s.id FROM samples s WHERE {where}{bound} ORDER BY s.id LIMIT ?",
            params + ([] if after_id is None else [after_id]) + [limit],
        )
        return [i for (i,) in found.fetchall()]

    def _ids_before(
        self, where: str, params: list, before_id: int, limit: int, after_id: int | None = None
    ) -> list[int]:
        """The last `limit` matching ids below `before_id`, ascending.

        DuckDB scans ids upward, so a descending top-N would read every row below `before_id`;
        growing windows read back only as far as the matches go.
        """
        floor = after_id if after_id is not None else self._scalar("SELECT min(id) - 1 FROM samples")
        ids, high, width = [], before_id, _WINDOW
        while len(ids) < limit and floor is not None and high - 1 > floor:
            low = max(high - width, floor + 1)
            found = self.con.execute(
                f"SELECT s.id FROM samples s WHERE {where} AND s.id >= ? AND s.id < ? "
                "ORDER BY s.id DESC LIMIT ?",
                params + [low, high, limit - len(ids)],
            )
            ids += [i for (i,) in found.fetchall()]
            high, width = low, width * 4
        return ids[::-1]

    def queue_count(self, flt: QueueFilter) -> int:
        where, params = _where(flt)
        return self._scalar(f"SELECT count(*) FROM samples s WHERE {where}", params)

    def neighbours(self, flt: QueueFilter, sample_id: int) -> tuple[int | None, int | None]:
        """The ids just before and after `sample_id` among the samples matching `flt`."""
        where, params = _where(flt)
        prev = self._ids_before(where, params, sample_id, 1)
        after = self._ids_after(where, params, sample_id, 1)
        return (prev[0] if prev else None), (after[0] if after else None)

    # --- one sample ------------------------------------------------------------------------------

    def review_sample(self, sample_id: int) -> dict | None:
        """A sample as reviewed: edits applied, review fields, every verdict (with `stale`) and
        how many revisions it has."""
        sample = self.get_sample(sample_id)
        if sample is None:
            return None
        sample["verdicts"] = self.verdicts([sample_id])
        sample["revision_count"] = self._scalar(
            "SELECT count(*) FROM sample_revisions WHERE sample_id = ?", [sample_id]
        )
        return sample

    # --- accept, reject, reset -------------------------------------------------------------------

    def review(
        self,
        sample_ids: list[int],
        action: str,
        reviewer: str,
        reason: str | None = None,
        note: str | None = None,
    ) -> int:
        """Accept, reject (with a reason) or reset to pending the given samples; all or none."""
        values = _review_values(action, reviewer, reason, note)
        ids = list(dict.fromkeys(sample_ids))

        def write() -> int:
            with self.transaction():
                found = self.con.execute("SELECT id FROM samples WHERE list_contains(?, id)", [ids])
                known = {i for (i,) in found.fetchall()}
                unknown = sorted(set(ids) - known)
                if unknown:
                    raise NotFound(
                        f"No sample with id {', '.join(map(str, unknown))}; nothing was changed.",
                        hint="sample_ids",
                    )
                return self._set_review("list_contains(?, s.id)", [ids], values)

        return self.short_write(write, "these samples")

    def review_filter(
        self, flt: QueueFilter, action: str, reviewer: str, reason: str | None = None, note: str | None = None
    ) -> int:
        """Apply a review action to every sample matching the filter, in one transaction; returns how many."""
        values = _review_values(action, reviewer, reason, note)
        where, params = _where(flt)

        def write() -> int:
            with self.transaction():
                return self._set_review(where, params, values)

        return self.short_write(write, "these samples")

    def _set_review(self, where: str, params: list, values: dict) -> int:
        # The matching ids are read once: the writes below change what a filter matches (a reviewer's own
        # queue leaves out what they decided), and every statement must act on the same samples.
        ids = [i for (i,) in self.con.execute(f"SELECT s.id FROM samples s WHERE {where}", params).fetchall()]
        where, params = "s.id IN (SELECT unnest(?::BIGINT[]))", [ids]
        self.con.execute(
            "INSERT INTO review_actions (sample_id, action, reviewer, reason, note) "
            f"SELECT s.id, ?, ?, ?, ? FROM samples s WHERE {where}",
            [values["action"], values["by"], values["reason"], values["note"], *params],
        )
        return self._decide(where, params, values)

    def reindex(self) -> None:
        """Recompute the rule tags and verdict flags the queues filter on, the audit's risky items and
        Home's rule outcomes, for rows written by other means than the store's methods (a bulk SQL load)."""
        with self.transaction():
            for sql in [*reindex_sql(), *refresh_audit_sql("true"), *refresh_outcomes_sql("true")]:
                self.con.execute(sql)

    def reject_reasons_by_template(self) -> list[dict]:
        """How often each reject reason was given, per response template and system-prompt template."""
        return self._rows(
            "SELECT s.template, p.template AS system_prompt_template, s.reject_reason AS reason, "
            "count(*) AS count FROM samples s JOIN system_prompts p ON p.id = s.system_prompt_id "
            "WHERE s.status = 'rejected' GROUP BY ALL "
            "ORDER BY s.template, system_prompt_template, count DESC, reason"
        )


def _review_values(action: str, reviewer: str, reason: str | None, note: str | None) -> dict:
    if action not in REVIEW_ACTIONS:
        raise ReviewError(f"Unknown review action {action!r}; use one of {', '.join(REVIEW_ACTIONS)}.")
    by = clean_name(reviewer)
    if action == "reject" and reason not in REJECT_REASONS:
        raise ReviewError(
            f"A rejection needs a reason, one of {', '.join(REJECT_REASONS)} (got {reason!r}); "
            "nothing was changed."
        )
    if action != "reject" and reason is not None:
        raise ReviewError(
            f"Only a rejection takes a reason; {action} was given {reason!r}. Nothing was changed."
        )
    note = note.strip() if isinstance(note, str) and note.strip() else None
    return {"action": action, "status": REVIEW_ACTIONS[action], "by": by, "reason": reason, "note": note}
