"""An LLM judge's verdicts on verifiable rules beside the checkers', for calibrating the judge."""

from rnr_core.stats import FREE_FORM
from rnr_core.store.effective import owner, rules

# The samples in scope ($run, $dataset: NULL for any), their verifiable rules, and every current
# pass/fail verdict on those rules.
_SCOPE = f"""WITH scope AS (
    SELECT s.id, s.system_prompt_id, s.edited_rules FROM samples s
    JOIN runs r ON r.id = s.run_id JOIN datasets d ON d.id = r.dataset_id
    WHERE ($run IS NULL OR s.run_id = $run) AND ($dataset IS NULL OR d.name = $dataset)),
{rules(prompts="id IN (SELECT system_prompt_id FROM scope)", samples="scope")},
checkable AS (
    SELECT s.id AS sample_id, r.rule_id, r.category FROM scope s
    JOIN rules r ON r.owner = {owner()} AND r.kind <> '{FREE_FORM}'),
current AS (
    SELECT v.sample_id, v.rule_id, v.judge, v.verdict, v.created_at, c.category
    FROM verdicts v JOIN checkable c USING (sample_id, rule_id)
    WHERE v.stale IS NOT TRUE AND v.verdict IN ('pass', 'fail'))"""


class CalibrationQueries:
    def latest_llm_judge(self, run_id: str | None = None, dataset: str | None = None) -> str | None:
        """The LLM judge that most recently gave a verdict on a verifiable rule in scope."""
        return self._scalar(
            f"{_SCOPE} SELECT judge FROM current WHERE judge LIKE 'llm:%' ORDER BY created_at DESC LIMIT 1",
            {"run": run_id, "dataset": dataset},
        )

    def calibration_pairs(
        self, judge: str, run_id: str | None = None, dataset: str | None = None
    ) -> list[tuple[str, str, str]]:
        """(category, checker verdict, `judge`'s verdict) for every verifiable rule in scope both judged."""
        rows = self.con.execute(
            f"""{_SCOPE}
            SELECT c.category, c.verdict, l.verdict FROM current c
            JOIN current l USING (sample_id, rule_id)
            WHERE c.judge = 'checker' AND l.judge = $judge ORDER BY c.sample_id, c.rule_id""",
            {"run": run_id, "dataset": dataset, "judge": judge},
        ).fetchall()
        return [tuple(r) for r in rows]
