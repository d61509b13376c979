"""System prompts and samples."""

import json

from rnr_core.errors import NotFound
from rnr_core.store.derived import categories_of, kinds_of

SAMPLE_STATUSES = ("pending", "accepted", "rejected")

# A reviewer's edits of the role, rules and prompt text take the place of the generated ones.
_SAMPLE_SELECT = (
    "SELECT s.*, coalesce(s.edited_role, p.role) AS role, coalesce(s.edited_rules, p.rules) AS rules, "
    "coalesce(s.edited_prompt, p.text) AS system_prompt, d.name AS dataset "
    "FROM samples s JOIN system_prompts p ON p.id = s.system_prompt_id "
    "JOIN runs r ON r.id = s.run_id JOIN datasets d ON d.id = r.dataset_id "
)


def _decode_sample(row: dict) -> dict:
    for field in ("messages", "rules", "params"):
        row[field] = json.loads(row[field])
    if row.get("provenance") is not None:
        row["provenance"] = json.loads(row["provenance"])
    return row


class SampleQueries:
    def add_system_prompt(
        self, run_id: str, group_idx: int, role: str, rules: list[dict], text: str, model: str, template: str
    ) -> int:
        with self.transaction():
            prompt_id = self._scalar(
                "INSERT INTO system_prompts (run_id, group_idx, role, rules, text, model, template) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                [run_id, group_idx, role, json.dumps(rules), text, model, template],
            )
            self.con.execute(
                f"INSERT INTO prompt_tags SELECT id, {kinds_of('rules')}, {categories_of('rules')} "
                "FROM system_prompts WHERE id = ?",
                [prompt_id],
            )
        return prompt_id

    def system_prompt(self, run_id: str, group_idx: int) -> dict | None:
        row = self._one(
            "SELECT * FROM system_prompts WHERE run_id = ? AND group_idx = ?", [run_id, group_idx]
        )
        if row:
            row["rules"] = json.loads(row["rules"])
        return row

    def add_sample(self, sample: dict) -> int:
        """Insert one sample; `sample` holds the column values by name."""
        row = dict(sample, messages=json.dumps(sample["messages"]), params=json.dumps(sample["params"]))
        if sample.get("provenance") is not None:
            row["provenance"] = json.dumps(sample["provenance"])
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        return self._scalar(f"INSERT INTO samples ({cols}) VALUES ({marks}) RETURNING id", list(row.values()))

    def list_samples(
        self, limit: int = 20, offset: int = 0, status: str | None = None, run_id: str | None = None
    ) -> list[dict]:
        rows = self._rows(
            _SAMPLE_SELECT + "WHERE (? IS NULL OR s.status = ?) AND (? IS NULL OR s.run_id = ?) "
            "ORDER BY s.id LIMIT ? OFFSET ?",
            [status, status, run_id, run_id, limit, offset],
        )
        return [_decode_sample(r) for r in rows]

    def get_sample(self, sample_id: int) -> dict | None:
        row = self._one(_SAMPLE_SELECT + "WHERE s.id = ?", [sample_id])
        return _decode_sample(row) if row else None

    def set_sample_status(self, sample_ids: list[int], status: str) -> int:
        """Set the status of every given sample, or of none if any id is unknown."""
        if status not in SAMPLE_STATUSES:
            raise ValueError(f"status must be one of {SAMPLE_STATUSES}")
        with self.transaction():
            found = self.con.execute("SELECT id FROM samples WHERE list_contains(?, id)", [sample_ids])
            known = {i for (i,) in found.fetchall()}
            unknown = sorted(set(sample_ids) - known)
            if unknown:
                raise NotFound(
                    f"No sample with id {', '.join(map(str, unknown))}; nothing was changed. "
                    "'rnr samples list' shows the ids."
                )
            return len(
                self.con.execute(
                    "UPDATE samples SET status = ?, updated_at = current_timestamp "
                    "WHERE list_contains(?, id) RETURNING id",
                    [status, sample_ids],
                ).fetchall()
            )

    def export_samples(self, statuses: list[str], run_id: str | None = None) -> list[dict]:
        rows = self._rows(
            _SAMPLE_SELECT + "WHERE list_contains(?, s.status) AND (? IS NULL OR s.run_id = ?) ORDER BY s.id",
            [statuses, run_id, run_id],
        )
        return [_decode_sample(r) for r in rows]

    def sample_by_key(self, run_id: str, item_key: str) -> dict | None:
        row = self._one(_SAMPLE_SELECT + "WHERE s.run_id = ? AND s.item_key = ?", [run_id, item_key])
        return _decode_sample(row) if row else None

    def recent_samples(self, run_id: str, limit: int = 5) -> list[dict]:
        """A run's newest samples, newest first: what the Generate page shows as they arrive."""
        rows = self._rows(_SAMPLE_SELECT + "WHERE s.run_id = ? ORDER BY s.id DESC LIMIT ?", [run_id, limit])
        return [_decode_sample(r) for r in rows]

    def instruction_sources(self, ids: list[int]) -> dict[int, tuple[list[dict], dict]]:
        """(messages, original record) of the given instruction ids: where a reference answer lives."""
        rows = self.con.execute(
            "SELECT id, messages, original FROM instructions WHERE list_contains(?, id)", [ids]
        ).fetchall()
        return {i: (json.loads(m), json.loads(o)) for i, m, o in rows}

    def repair_counts(self, run_id: str | None = None) -> list[dict]:
        """Per rule kind: kept responses that failed it before a revision, that a revision made pass,
        and that a fixer repaired (from samples.provenance)."""
        return self._rows(
            f"""SELECT kind, count(*) FILTER (WHERE what = 'failed') AS failed,
                count(*) FILTER (WHERE what = 'revised') AS revised,
                count(*) FILTER (WHERE what = 'fixed') AS fixed
            FROM ({_REPAIRS}) GROUP BY kind ORDER BY kind""",
            [run_id, run_id] * 3,
        )

    def provenance_counts(self, run_id: str | None = None) -> dict[str, int]:
        """Samples by where the response came from and what was done to it."""
        rows = self.con.execute(
            f"SELECT {_REPAIR_CLASS} AS how, count(*) FROM samples "
            "WHERE ? IS NULL OR run_id = ? GROUP BY how ORDER BY how",
            [run_id, run_id],
        ).fetchall()
        return dict(rows)


_IN_RUN = "provenance IS NOT NULL AND (? IS NULL OR run_id = ?)"
_REPAIRS = " UNION ALL ".join(
    f"SELECT unnest(json_extract_string(provenance, '{path}')) AS kind, '{what}' AS what "
    f"FROM samples WHERE {_IN_RUN}"
    for what, path in (
        ("failed", "$.failed_kinds[*]"),
        ("revised", "$.revised_kinds[*]"),
        ("fixed", "$.fixes[*].kind"),
    )
)
# 'generated', 'revised', 'fixed', 'revised+fixed', 'recycled': one label per sample.
_REPAIR_CLASS = """CASE
    WHEN provenance IS NULL THEN 'generated'
    WHEN json_extract_string(provenance, '$.source') = 'recycled' THEN 'recycled'
    ELSE concat_ws('+',
        CASE WHEN json_array_length(provenance, '$.revised_kinds') > 0 THEN 'revised' END,
        CASE WHEN json_array_length(provenance, '$.fixes') > 0 THEN 'fixed' END,
        CASE WHEN json_array_length(provenance, '$.revised_kinds') = 0
             AND json_array_length(provenance, '$.fixes') = 0 THEN 'generated' END)
END"""
