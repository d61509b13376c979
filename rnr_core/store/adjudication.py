"""Disagreements between people, and an adjudicator's ruling on each: reviews (accept vs reject) and
audit labels (pass vs fail). A ruling is recorded as such: a review decision marked `adjudicates` and
an 'adjudicate' review action, or a verdict by judge 'adjudicator:<name>', which outranks every
person's label (rnr_core.stats.PRECEDENCE)."""

import json

from rnr_core.errors import LabelError, NotFound, ReviewError
from rnr_core.review import REJECT_REASONS, RULINGS, clean_name, excerpt
from rnr_core.store.derived import PEOPLE
from rnr_core.store.effective import rules_of_few, with_rules

ADJUDICATOR = "adjudicator:"
_VERDICTS = ("pass", "fail")

# Each person's current label on the rules at least two people labelled (the kept labels find them
# without reading every verdict), with the rule's category; adjudications too.
_PEOPLE_LABELS = f"""WITH several AS (
    SELECT sample_id, rule_id FROM audit_verdicts
    WHERE risk IS NULL AND judge LIKE 'human:%' AND ($sample IS NULL OR sample_id = $sample)
    GROUP BY ALL HAVING count(*) >= 2),
labels AS (
    SELECT v.sample_id, hash(v.rule_id) AS rule_h, v.rule_id, v.judge, v.verdict, v.rationale, v.created_at
    FROM verdicts v SEMI JOIN several USING (sample_id, rule_id)
    WHERE {PEOPLE} AND v.stale IS NOT TRUE AND v.verdict IN ('pass', 'fail')),
{rules_of_few("labels")},
{with_rules("located", "labels", "x.* EXCLUDE (rule_h), r.category, r.text AS rule_text", samples="scope")}
SELECT * FROM located ORDER BY sample_id, rule_id, created_at, judge"""

# The rules in dispute: labelled by at least the audit's labels per item of people ($n), some pass and some
# fail, with no adjudication; optionally of one sample and rule. The kept labels (current, on rules the
# sample still has) find the candidates; the verdicts then say whether their labels differ (a join on the
# rule id's hash, as in store/effective.py: integer keys are the faster probe at millions of verdicts).
_DISPUTES = f"""WITH candidates AS (
    SELECT sample_id, hash(rule_id) AS rule_h FROM audit_verdicts
    WHERE risk IS NULL AND ($sample IS NULL OR (sample_id = $sample AND rule_id = $rule))
    GROUP BY sample_id, rule_id
    HAVING count(*) FILTER (WHERE judge LIKE 'human:%') >= greatest($n, 2)
        AND NOT bool_or(judge LIKE '{ADJUDICATOR}%')),
disputes AS (
    SELECT v.sample_id, v.rule_id FROM verdicts v
    SEMI JOIN candidates c ON c.sample_id = v.sample_id AND c.rule_h = hash(v.rule_id)
    WHERE starts_with(v.judge, 'human:') AND v.stale IS NOT TRUE AND v.verdict IN ('pass', 'fail')
    GROUP BY ALL HAVING min(v.verdict) <> max(v.verdict))"""
_DISPUTE_KEYS = f"{_DISPUTES}\nSELECT * FROM disputes ORDER BY sample_id, rule_id LIMIT $limit"
_DISPUTE_COUNT = f"{_DISPUTES}\nSELECT count(*) FROM disputes"

# Each person's label on the given (sample, rule) keys, with the rule's category and text.
_DISPUTE_LABELS = f"""WITH keys AS (SELECT unnest($samples) AS sample_id, unnest($rules) AS rule_id),
labels AS (
    SELECT v.sample_id, hash(v.rule_id) AS rule_h, v.rule_id, v.judge, v.verdict, v.rationale, v.created_at
    FROM verdicts v SEMI JOIN keys USING (sample_id, rule_id)
    WHERE v.judge LIKE 'human:%' AND v.stale IS NOT TRUE AND v.verdict IN ('pass', 'fail')
      AND v.sample_id IN (SELECT sample_id FROM keys)),
{rules_of_few("labels")},
{with_rules("located", "labels", "x.* EXCLUDE (rule_h), r.category, r.text AS rule_text", samples="scope")}
SELECT * FROM located ORDER BY sample_id, rule_id, created_at, judge"""


def _person(judge: str) -> str:
    return judge.split(":", 1)[1]


def _with_labels(keys: list[dict], labels: list[dict]) -> list[dict]:
    """Each disputed rule with its category, text and each person's label, in the keys' order."""
    by_rule: dict[tuple, list[dict]] = {}
    for row in labels:
        by_rule.setdefault((row["sample_id"], row["rule_id"]), []).append(row)
    disputes = []
    for key in keys:
        people = by_rule.get((key["sample_id"], key["rule_id"]))
        if not people:  # edited away between the two reads
            continue
        disputes.append(
            key
            | {
                "category": people[0]["category"],
                "rule_text": people[0]["rule_text"],
                "labels": [
                    {"reviewer": _person(lb["judge"]), "verdict": lb["verdict"], "note": lb["rationale"]}
                    for lb in people
                ],
            }
        )
    return disputes


class AdjudicationQueries:
    # --- reviews ---------------------------------------------------------------------------------

    def review_disputes(self, limit: int = 50) -> list[dict]:
        """Samples whose reviewers disagree, awaiting a ruling, by id: id, instruction, dataset, decisions."""
        rows = self._rows(
            "SELECT s.id, s.messages FROM samples s WHERE s.disputed ORDER BY s.id LIMIT ?", [limit]
        )
        decisions = self.decisions([r["id"] for r in rows])
        for row in rows:
            row["instruction"] = excerpt(json.loads(row.pop("messages")))
            row["decisions"] = [d for d in decisions[row["id"]] if not d["adjudicates"]]
        return rows

    def review_dispute_count(self) -> int:
        return self._scalar("SELECT count(*) FROM samples WHERE disputed")

    def adjudicate_review(
        self,
        sample_id: int,
        ruling: str,
        adjudicator: str,
        reason: str | None = None,
        note: str | None = None,
    ) -> str:
        """Settle a disputed sample: accept or reject it (with a reason); returns its new status."""
        by = clean_name(adjudicator, "adjudicator")
        if ruling not in RULINGS:
            raise ReviewError(
                f"A ruling is one of {', '.join(RULINGS)}, not {ruling!r}; nothing was changed."
            )
        if (ruling == "reject") != (reason is not None) or (
            reason is not None and reason not in REJECT_REASONS
        ):
            raise ReviewError(
                f"A rejection needs a reason, one of {', '.join(REJECT_REASONS)}, and an acceptance none "
                f"(got {ruling} with {reason!r}); nothing was changed."
            )
        note = note.strip() if isinstance(note, str) and note.strip() else None

        def write() -> str:
            with self.transaction():
                disputed = self._scalar("SELECT disputed FROM samples WHERE id = ?", [sample_id])
                if disputed is None:
                    raise NotFound(f"No sample with id {sample_id}; nothing was changed. Reload the page.")
                if not disputed:
                    raise ReviewError(
                        f"Sample {sample_id} has no disagreement to settle (someone may have settled it "
                        "already); nothing was changed. Reload the page."
                    )
                self.con.execute(
                    "INSERT OR REPLACE INTO review_decisions (sample_id, reviewer, adjudicates, decision, "
                    "reason, note, created_at) VALUES (?, ?, true, ?, ?, ?, current_timestamp)",
                    [sample_id, by, ruling, reason, note],
                )
                self.con.execute(
                    "INSERT INTO review_actions (sample_id, action, reviewer, reason, note, decision) "
                    "VALUES (?, 'adjudicate', ?, ?, ?, ?)",
                    [sample_id, by, reason, note, ruling],
                )
                self._resolve("s.id = ?", [sample_id])
                return RULINGS[ruling]

        return self.short_write(write, "this sample's decisions")

    # --- audit labels ----------------------------------------------------------------------------

    def people_labels(self, sample_id: int | None = None) -> list[dict]:
        """Every current label of a person or adjudicator on rules two or more people labelled (of one
        sample, or all): sample_id, rule_id, judge, verdict, rationale, created_at, category, rule_text."""
        return self._rows(_PEOPLE_LABELS, {"sample": sample_id})

    def label_disputes(self, limit: int = 50) -> list[dict]:
        """The first `limit` rules, by sample and rule id, that at least the audit's labels per item of people
        labelled, some pass and some fail, with no adjudication: sample_id, rule_id, category, rule_text and
        each person's label."""
        keys = self._rows(_DISPUTE_KEYS, self._dispute_params(limit=limit))
        if not keys:
            return []
        labels = self._rows(
            _DISPUTE_LABELS,
            {"samples": [k["sample_id"] for k in keys], "rules": [k["rule_id"] for k in keys]},
        )
        return _with_labels(keys, labels)

    def label_dispute_count(self) -> int:
        return self._scalar(_DISPUTE_COUNT, self._dispute_params())

    def _dispute_params(self, sample_id: int | None = None, rule_id: str | None = None, **more) -> dict:
        return {"n": self.labels_per_item("audit"), "sample": sample_id, "rule": rule_id, **more}

    def adjudicate_label(
        self, sample_id: int, rule_id: str, verdict: str, adjudicator: str, note: str | None = None
    ) -> None:
        """Settle a disagreement on one rule of one sample with the adjudicator's pass or fail."""
        by = clean_name(adjudicator, "adjudicator")
        if verdict not in _VERDICTS:
            raise LabelError(f"A ruling is pass or fail, not {verdict!r}; nothing was written.")

        def write() -> None:
            with self.transaction():
                if not self._scalar(_DISPUTE_COUNT, self._dispute_params(sample_id, rule_id)):
                    raise LabelError(
                        f"People do not disagree on rule {rule_id!r} of sample {sample_id} (or it was "
                        "settled already); nothing was written. Reload the page."
                    )
                self._write_label(sample_id, rule_id, verdict, (ADJUDICATOR, by), "adjudicate", note)

        self.short_write(write, "this rule's labels")
