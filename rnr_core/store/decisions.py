"""Each reviewer's accept or reject of a sample, and the status their decisions give it.

With one review per sample (the default) the latest decision decides, as a single reviewer always did.
With N per sample, each person's decision is kept (one per person: a second one replaces the first),
and the sample stays pending until N people have decided: then it takes their status if they all
agree, and waits for an adjudicator if they do not (`disputed`). Changing N settles again what it
changes: pending samples that now have enough decisions, and disputes, which a higher N reopens
for more people. An adjudicator's ruling decides a disputed sample for good, whatever N becomes: a
person's later decision on it is recorded (and counted) but the ruling stands, and its queue no
longer offers it. Only a reset starts the sample over, ruling and all.
"""

from rnr_core.store.tasks import TaskQueries

# The standing decisions of the samples in scope (`where` on samples `s`): how many people decided,
# whether they all agree, the latest decision and the adjudicator's ruling, each with who gave it.
_TALLY = """SELECT sample_id, count(*) FILTER (WHERE NOT adjudicates) AS n,
    count(DISTINCT decision) FILTER (WHERE NOT adjudicates) AS kinds,
    arg_max(struct_pack(decision, reviewer, reason, note, created_at), created_at)
        FILTER (WHERE NOT adjudicates) AS latest,
    arg_max(struct_pack(decision, reviewer, reason, note, created_at), created_at)
        FILTER (WHERE adjudicates) AS ruling
  FROM review_decisions WHERE sample_id IN (SELECT s.id FROM samples s WHERE {where}) GROUP BY sample_id"""

# The status the decisions give: the ruling's, else that of N agreeing people, else pending. `who` is
# the deciding decision (the ruling, or the latest of the agreeing ones), NULL while undecided.
_RESOLVE = f"""UPDATE samples SET status = CASE WHEN who IS NULL THEN 'pending'
        WHEN who.decision = 'accept' THEN 'accepted' ELSE 'rejected' END,
    reviewer = who.reviewer, reject_reason = who.reason, review_note = who.note, reviewed_at = who.created_at,
    decisions = d.n, disputed = ruling IS NULL AND d.n >= $n AND kinds > 1, updated_at = current_timestamp
  FROM (SELECT *, CASE WHEN ruling IS NOT NULL THEN ruling WHEN n >= $n AND kinds = 1 THEN latest END AS who
        FROM ({_TALLY})) d
  WHERE samples.id = d.sample_id"""


class DecisionQueries(TaskQueries):
    def _decide(self, where: str, params: list, values: dict) -> int:
        """Record `values["by"]`'s decision on every sample matching `where` (on samples `s`) and give each
        the status its decisions now give; returns how many samples. Inside the caller's transaction."""
        scope = f"sample_id IN (SELECT s.id FROM samples s WHERE {where})"
        if values["action"] == "reset":
            self.con.execute(f"DELETE FROM review_decisions WHERE {scope}", params)  # ruling and all
        elif self.labels_per_item("review") == 1:
            # One person's decision per sample: the new one replaces everyone's, never a ruling.
            self.con.execute(f"DELETE FROM review_decisions WHERE {scope} AND NOT adjudicates", params)
        if values["action"] != "reset":
            self.con.execute(
                "INSERT OR REPLACE INTO review_decisions (sample_id, reviewer, adjudicates, decision, "
                "reason, note, created_at) SELECT s.id, ?, false, ?, ?, ?, current_timestamp "
                f"FROM samples s WHERE {where}",
                [values["by"], values["action"], values["reason"], values["note"], *params],
            )
        if values["action"] == "reset":
            return self._scalar(
                "UPDATE samples s SET status = 'pending', reviewer = NULL, reject_reason = NULL, "
                "review_note = NULL, reviewed_at = NULL, decisions = 0, disputed = false, "
                f"updated_at = current_timestamp WHERE {where}",
                params,
            )
        return self._resolve(where, params)

    def _resolve(self, where: str, params: list) -> int:
        """Give the samples matching `where` (on samples `s`) the status of their standing decisions."""
        # N is inlined (an integer read from the store): `where` comes with positional parameters.
        n = int(self.labels_per_item("review"))
        return self._scalar(_RESOLVE.format(where=where).replace("$n", str(n)), params)

    def decisions(self, sample_ids: list[int]) -> dict[int, list[dict]]:
        """Each sample's standing decisions, oldest first: reviewer, decision, reason, note, created_at and
        whether it is an adjudicator's ruling."""
        rows = self._rows(
            "SELECT sample_id, reviewer, decision, reason, note, created_at, adjudicates "
            "FROM review_decisions WHERE list_contains(?, sample_id) "
            "ORDER BY sample_id, adjudicates, created_at, reviewer",
            [list(sample_ids)],
        )
        out: dict[int, list[dict]] = {i: [] for i in sample_ids}
        for r in rows:
            out[r.pop("sample_id")].append(r)
        return out
