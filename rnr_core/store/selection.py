"""The samples an export selects, each with its pass/fail/unjudged outcome decided in SQL."""

import json

from rnr_core.store.effective import judge_rank

BATCH = 5000
_LAST_ID = 2**63 - 1

# arg_min picks the deciding verdict: the highest-ranked judge first, then the latest.
_RANK = f"-({judge_rank('v.judge')})"


# A reviewer's edit of the rules, when there is one, replaces the prompt's rules for that sample.
def _effective(field: str) -> str:
    """SQL for the list of this field over a sample's effective rules."""
    edited = f"json_extract_string(s.edited_rules, '$[*].{field}')"
    return f"CASE WHEN s.edited_rules IS NULL THEN p.rule_{field}s ELSE {edited} END"


def _outcomes_sql(columns: str) -> str:
    """Samples in an id range that pass the filters, with `columns` and their outcome.

    Mirrors rnr_core.stats: a rule's deciding verdict is the pass/fail of the highest-precedence judge,
    latest first (ties by judge name); a sample passes when every rule does, fails when any rule fails,
    and is unjudged otherwise. Stale verdicts (from before an edit) decide nothing.
    """
    return f"""
    WITH prompts AS (
        SELECT id, text, json_extract_string(rules, '$[*].id') AS rule_ids,
               json_extract_string(rules, '$[*].category') AS rule_categorys
        FROM system_prompts),
    picked AS (
        SELECT s.id, {columns}, {_effective("id")} AS rule_ids
        FROM samples s JOIN prompts p ON p.id = s.system_prompt_id
        JOIN runs r ON r.id = s.run_id JOIN datasets d ON d.id = r.dataset_id
        WHERE s.id BETWEEN $lo AND $hi AND list_contains($statuses, s.status)
          AND ($run_id IS NULL OR s.run_id = $run_id) AND ($dataset IS NULL OR d.name = $dataset)
          AND ($categories IS NULL OR list_has_any({_effective("category")}, $categories))),
    deciding AS (
        SELECT v.sample_id, v.rule_id,
               arg_min(v.verdict,
                   struct_pack(rank := {_RANK}, age := -epoch_us(v.created_at), judge := v.judge)) AS verdict
        FROM verdicts v
        WHERE v.sample_id BETWEEN $lo AND $hi AND v.sample_id IN (SELECT id FROM picked)
          AND v.verdict IN ('pass', 'fail')
          AND NOT coalesce(v.stale, false)
        GROUP BY v.sample_id, v.rule_id),
    judged AS (
        SELECT sample_id AS id, list(rule_id) FILTER (WHERE verdict = 'pass') AS passed,
               list(rule_id) FILTER (WHERE verdict = 'fail') AS failed
        FROM deciding GROUP BY sample_id)
    SELECT picked.*, CASE WHEN list_has_any(j.failed, rule_ids) THEN 'fail'
                          WHEN len(rule_ids) > 0 AND list_has_all(j.passed, rule_ids) THEN 'pass'
                          ELSE 'unjudged' END AS outcome
    FROM picked LEFT JOIN judged j USING (id)
    """


_BATCH_SQL = (
    "SELECT id, messages, response, system_prompt, outcome FROM ("
    + _outcomes_sql("s.messages, s.response, coalesce(s.edited_prompt, p.text) AS system_prompt")
    + ") ORDER BY id"
)
_TALLY_SQL = (
    "SELECT system_prompt, outcome, count(*) AS n FROM ("
    + _outcomes_sql("coalesce(s.edited_prompt, p.text) AS system_prompt")
    + ") GROUP BY ALL"
)


def _params(statuses, run_id, dataset, categories) -> dict:
    return {
        "statuses": list(statuses),
        "run_id": run_id,
        "dataset": dataset,
        "categories": list(categories) if categories else None,
    }


class SelectionQueries:
    def selected_batches(
        self, statuses, run_id=None, dataset=None, categories=None, batch: int | None = None, progress=None
    ):
        """Yield the selected samples in id order, one list per `batch` ids, so memory stays bounded.

        Every batch is read in one transaction, so all of them show the store as it was at the start:
        reviews and verdicts written meanwhile by others change none of them. Each sample has id,
        messages, response, the effective system_prompt and its outcome. After the caller is done with
        each batch, `progress(scanned, total)` counts the store's samples looked at.
        """
        batch = batch or BATCH
        with self.transaction():
            # Samples per id range, counted once: empty ranges are skipped, and progress has a total.
            ranges = self.con.execute(
                "SELECT id // $batch AS b, count(*) FROM samples GROUP BY b ORDER BY b", {"batch": batch}
            ).fetchall()
            params, total, scanned = (
                _params(statuses, run_id, dataset, categories),
                sum(n for _, n in ranges),
                0,
            )
            if progress is not None:
                progress(0, total)
            for b, n in ranges:
                rows = self._rows(_BATCH_SQL, {**params, "lo": b * batch, "hi": (b + 1) * batch - 1})
                for row in rows:
                    row["messages"] = json.loads(row["messages"])
                yield rows
                scanned += n
                if progress is not None:
                    progress(scanned, total)

    def selected_tally(self, statuses, run_id=None, dataset=None, categories=None) -> list[tuple]:
        """(system_prompt, outcome, count) over the selected samples, computed in SQL."""
        params = {**_params(statuses, run_id, dataset, categories), "lo": 0, "hi": _LAST_ID}
        return self.con.execute(_TALLY_SQL, params).fetchall()
