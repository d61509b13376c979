"""Pairwise votes of people and LLM judges, in one table."""

import json

from rnr_core.store.derived import categories_of

VOTE_COLUMNS = (
    "benchmark_id",
    "item_key",
    "item",
    "model_a",
    "model_b",
    "response_a",
    "response_b",
    "winner",
    "voter",
    "voter_kind",
    "blind",
    "reason",
    "detail",
    "status",
    "error",
    "raw_output",
    "template",
)
VOTER_KINDS = ("human", "llm")
# The same benchmark, or the ad-hoc votes (no benchmark) when the id is NULL.
_SAME_BENCHMARK = "benchmark_id IS NOT DISTINCT FROM ?"


def _row(vote: dict) -> list:
    row = {**vote}
    for key in ("item", "detail"):
        if row.get(key) is not None and not isinstance(row[key], str):
            row[key] = json.dumps(row[key])
    return [row.get(c) for c in VOTE_COLUMNS]


class VoteQueries:
    def add_vote(self, vote: dict) -> int:
        """Insert one vote (the VOTE_COLUMNS of `vote`); returns its id."""
        placeholders = ", ".join("?" for _ in VOTE_COLUMNS)
        return self._scalar(
            f"INSERT INTO votes ({', '.join(VOTE_COLUMNS)}) VALUES ({placeholders}) RETURNING id",
            _row(vote),
        )

    def save_llm_vote(self, vote: dict) -> int:
        """Insert or replace an LLM judge's vote, keyed by benchmark, item, model pair and voter, so a
        rerun replaces a failed vote instead of adding a second one."""
        with self.transaction():
            existing = self._scalar(
                f"SELECT id FROM votes WHERE {_SAME_BENCHMARK} AND item_key = ? AND model_a = ? "
                "AND model_b = ? AND voter = ? AND voter_kind = 'llm'",
                [vote["benchmark_id"], vote["item_key"], vote["model_a"], vote["model_b"], vote["voter"]],
            )
            if existing is None:
                return self.add_vote({**vote, "voter_kind": "llm"})
            sets = ", ".join(f"{c} = ?" for c in VOTE_COLUMNS)
            self.con.execute(
                f"UPDATE votes SET {sets}, created_at = current_timestamp WHERE id = ?",
                [*_row({**vote, "voter_kind": "llm"}), existing],
            )
            return existing

    def llm_votes_done(self, benchmark_id: int | None, voter: str, template: str) -> set[tuple]:
        """(item_key, model_a, model_b, response_a, response_b) of this judge's good votes with this
        template: what a rerun may skip, as long as the responses it judged are still the same."""
        rows = self.con.execute(
            f"SELECT item_key, model_a, model_b, response_a, response_b FROM votes WHERE {_SAME_BENCHMARK} "
            "AND voter = ? AND voter_kind = 'llm' AND status = 'ok' AND template = ?",
            [benchmark_id, voter, template],
        ).fetchall()
        return {tuple(r) for r in rows}

    def votes(
        self, benchmark_id: int | None, voter_kind: str | None = None, status: str | None = None
    ) -> list[dict]:
        """Votes on one benchmark (or the ad-hoc ones, for None), optionally of one kind of voter and one
        status, each with `categories`: the rule categories of its item, for per-category win rates."""
        if voter_kind is not None and voter_kind not in VOTER_KINDS:
            raise ValueError(f"voter_kind must be one of {VOTER_KINDS}, got {voter_kind!r}")
        rules = "coalesce(i.rules, json_extract(v.item, '$.rules'))"
        rows = self._rows(
            # list_distinct also drops the NULL of a rule without a category
            f"SELECT v.*, list_sort(list_distinct({categories_of(rules)})) AS categories "
            "FROM votes v LEFT JOIN benchmark_items i USING (benchmark_id, item_key) "
            f"WHERE v.{_SAME_BENCHMARK} AND (? IS NULL OR v.voter_kind = ?) AND (? IS NULL OR v.status = ?) "
            "ORDER BY v.id",
            [benchmark_id, voter_kind, voter_kind, status, status],
        )
        for r in rows:
            r["categories"] = r["categories"] or []
            for key in ("item", "detail"):
                r[key] = json.loads(r[key]) if r[key] else None
        return rows

    def has_benchmark_item(self, benchmark_id: int, item_key: str) -> bool:
        return bool(
            self._scalar(
                "SELECT count(*) FROM benchmark_items WHERE benchmark_id = ? AND item_key = ?",
                [benchmark_id, item_key],
            )
        )
