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


def _person(judge: str) -> str:
    return judge.split(":", 1)[1]


def _label_disputes(rows: list[dict], n: int) -> list[dict]:
    """Rules that at least `n` people labelled, some pass and some fail, with no adjudication yet."""
    by_rule: dict[tuple, list[dict]] = {}
    for row in rows:
        by_rule.setdefault((row["sample_id"], row["rule_id"]), []).append(row)
    disputes = []
    for (sample_id, rule_id), labels in by_rule.items():
        people = [lb for lb in labels if lb["judge"].startswith("human:")]
        if len(people) < n or len(labels) > len(people) or len({lb["verdict"] for lb in people}) < 2:
            continue
        disputes.append(
            {
                "sample_id": sample_id,
                "rule_id": rule_id,
                "category": labels[0]["category"],
                "rule_text": labels[0]["rule_text"],
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

    def label_disputes(self) -> list[dict]:
        """Rules that at least the audit's labels per item of people labelled, some pass and some fail, with
        no adjudication: sample_id, rule_id, category, rule_text and each person's label."""
        return _label_disputes(self.people_labels(), self.labels_per_item("audit"))

    def adjudicate_label(
        self, sample_id: int, rule_id: str, verdict: str, adjudicator: str, note: str | None = None
    ) -> None:
        """Settle a disagreement on one rule of one sample with the adjudicator's pass or fail."""
        by = clean_name(adjudicator, "adjudicator")
        if verdict not in _VERDICTS:
            raise LabelError(f"A ruling is pass or fail, not {verdict!r}; nothing was written.")

        def write() -> None:
            with self.transaction():
                rows = [r for r in self.people_labels(sample_id) if r["rule_id"] == rule_id]
                if not _label_disputes(rows, self.labels_per_item("audit")):
                    raise LabelError(
                        f"People do not disagree on rule {rule_id!r} of sample {sample_id} (or it was "
                        "settled already); nothing was written. Reload the page."
                    )
                self.add_verdicts(
                    sample_id, ADJUDICATOR + by, [{"rule_id": rule_id, "verdict": verdict, "rationale": note}]
                )
                self.con.execute(
                    "INSERT INTO review_actions (sample_id, action, reviewer, note, rule_id, decision) "
                    "VALUES (?, 'adjudicate', ?, ?, ?, ?)",
                    [sample_id, by, note, rule_id, verdict],
                )

        self.short_write(write, "this rule's labels")
