"""Per-rule verdicts of every judge, and the attempts behind each generated sample."""

import json

from rnr_core.store.derived import refresh_audit_sql, refresh_flags_sql, refresh_outcomes_sql

VERDICTS = ("pass", "fail", "unknown")


class VerdictQueries:
    def add_verdicts(
        self,
        sample_id: int,
        judge: str,
        verdicts: list[dict],
        template: str | None = None,
        refresh: bool = True,
    ) -> None:
        """Insert or replace this judge's verdicts (rule_id, verdict, rationale, raw_output), fresh
        ones replacing stale; `template` is the judge prompt's version, for LLM judges. With
        `refresh=False` the caller must call refresh_verdict_flags for the sample afterwards."""
        for v in verdicts:
            if v["verdict"] not in VERDICTS:
                raise ValueError(f"verdict must be one of {VERDICTS}, got {v['verdict']!r}")
        self.con.executemany(
            "INSERT OR REPLACE INTO verdicts (sample_id, rule_id, judge, verdict, rationale, raw_output, "
            "template, created_at, stale) VALUES (?, ?, ?, ?, ?, ?, ?, current_timestamp, false)",
            [
                [
                    sample_id,
                    v["rule_id"],
                    judge,
                    v["verdict"],
                    v.get("rationale"),
                    v.get("raw_output"),
                    template,
                ]
                for v in verdicts
            ],
        )
        if refresh:
            self.refresh_verdict_flags([sample_id])

    def refresh_verdict_flags(self, sample_ids: list[int]) -> None:
        """Recompute the review queue's verdict flags, the audit's kept verdicts and Home's rule outcomes
        of these samples."""
        if not sample_ids:
            return
        # The id range lets DuckDB skip row groups before testing list membership.
        scope = "{id} BETWEEN $lo AND $hi AND list_contains($ids, {id})"
        bounds = {"lo": min(sample_ids), "hi": max(sample_ids), "ids": list(sample_ids)}
        for sql in [refresh_flags_sql(scope), *refresh_audit_sql(scope), *refresh_outcomes_sql(scope)]:
            self.con.execute(sql, bounds)

    def verdicts(self, sample_ids: list[int]) -> list[dict]:
        return self._rows(
            "SELECT * FROM verdicts WHERE list_contains(?, sample_id) ORDER BY sample_id, rule_id, judge",
            [sample_ids],
        )

    def add_attempts(self, sample_id: int, attempts: list[dict]) -> None:
        """attempts: dicts with attempt, response, verdicts ({rule_id: bool}), passed, kept, seed, and
        optionally revision (the revision round that asked for it)."""
        self.con.executemany(
            "INSERT INTO attempts (sample_id, attempt, response, verdicts, passed, kept, seed, revision) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    sample_id,
                    a["attempt"],
                    a["response"],
                    json.dumps(a["verdicts"]),
                    a["passed"],
                    a["kept"],
                    a["seed"],
                    a.get("revision"),
                ]
                for a in attempts
            ],
        )

    def attempts(self, sample_id: int) -> list[dict]:
        rows = self._rows("SELECT * FROM attempts WHERE sample_id = ? ORDER BY attempt", [sample_id])
        for r in rows:
            r["verdicts"] = json.loads(r["verdicts"])
        return rows

    def samples_with_verdicts(
        self, run_id: str | None = None, dataset: str | None = None, sample_ids: list[int] | None = None
    ) -> list[dict]:
        """Samples (with a reviewer's edits) with their rules and every verdict, for judging and metrics."""
        rows = self._rows(
            "SELECT s.id, s.run_id, s.messages, s.response, coalesce(s.edited_rules, p.rules) AS rules, "
            "coalesce(s.edited_prompt, p.text) AS system_prompt "
            "FROM samples s JOIN system_prompts p ON p.id = s.system_prompt_id "
            "JOIN runs r ON r.id = s.run_id JOIN datasets d ON d.id = r.dataset_id "
            "WHERE (? IS NULL OR s.run_id = ?) AND (? IS NULL OR d.name = ?) "
            "AND (?::BIGINT[] IS NULL OR list_contains(?::BIGINT[], s.id)) ORDER BY s.id",
            [run_id, run_id, dataset, dataset, sample_ids, sample_ids],
        )
        for r in rows:
            r["messages"], r["rules"] = json.loads(r["messages"]), json.loads(r["rules"])
        return self.attach_verdicts(rows)

    def attach_verdicts(self, samples: list[dict]) -> list[dict]:
        """Set each sample's `verdicts` to all verdicts on its rules, in one query."""
        by_sample: dict[int, list[dict]] = {}
        for v in self.verdicts([s["id"] for s in samples]) if samples else []:
            by_sample.setdefault(v["sample_id"], []).append(v)
        for s in samples:
            s["verdicts"] = by_sample.get(s["id"], [])
        return samples
