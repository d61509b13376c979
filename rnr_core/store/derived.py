"""Values the review queue filters on, kept beside their source so filters never parse JSON or
aggregate verdicts per query: rule kinds and categories per prompt (and per edited sample), and
per-sample verdict flags. Migration 5 fills them; the writers of rules and verdicts keep them."""


def kinds_of(rules_json: str) -> str:
    """SQL for the kind of each rule in a rules JSON column, 'free-form' where it has none."""
    return (
        f"list_transform(json_extract({rules_json}, '$[*]'), "
        "lambda r: coalesce(json_extract_string(r, '$.kind'), 'free-form'))"
    )


def categories_of(rules_json: str) -> str:
    return (
        f"list_transform(json_extract({rules_json}, '$[*]'), lambda r: json_extract_string(r, '$.category'))"
    )


# Judges in the order they decide a rule (rnr_core.stats.effective_verdict): person, code, LLM.
_RANK = (
    "CASE WHEN judge LIKE 'human:%' THEN 3 WHEN judge = 'checker' THEN 2 "
    "WHEN judge LIKE 'llm:%' THEN 1 ELSE 0 END"
)

_PER_RULE = f"""SELECT sample_id, rule_id,
    arg_max(verdict, ({_RANK}, created_at)) FILTER (WHERE verdict IN ('pass', 'fail')) AS decided,
    bool_or(judge LIKE 'llm:%' AND verdict = 'unknown') AS unsure,
    (bool_or(judge = 'checker' AND verdict = 'pass')
        AND bool_or(judge LIKE 'llm:%' AND verdict = 'fail'))
      OR (bool_or(judge = 'checker' AND verdict = 'fail')
        AND bool_or(judge LIKE 'llm:%' AND verdict = 'pass')) AS disagree
  FROM verdicts WHERE NOT coalesce(stale, false) AND {{in_verdicts}} GROUP BY sample_id, rule_id"""


def reindex_sql() -> list[str]:
    """Statements that recompute every derived value from the rows it derives from."""
    return [
        "DELETE FROM prompt_tags",
        f"INSERT INTO prompt_tags SELECT id, {kinds_of('rules')}, {categories_of('rules')} "
        "FROM system_prompts",
        f"UPDATE samples SET edited_kinds = {kinds_of('edited_rules')}, "
        f"edited_categories = {categories_of('edited_rules')} "
        "WHERE edited_rules IS NOT NULL OR edited_kinds IS NOT NULL",
        refresh_flags_sql("true"),
    ]


def refresh_flags_sql(scope: str) -> str:
    """SQL that recomputes the verdict flags of the samples in `scope` (a predicate on the sample
    id written `{id}`, used three times), writing only rows whose flags change."""
    return f"""UPDATE samples SET verdict_failed = f.failed, verdict_unsure = f.unsure,
        verdict_disagree = f.disagree
      FROM (SELECT s.id, coalesce(bool_or(r.decided = 'fail'), false) AS failed,
              coalesce(bool_or(r.unsure), false) AS unsure, coalesce(bool_or(r.disagree), false) AS disagree
            FROM (SELECT id FROM samples WHERE {scope.format(id="id")}) s
            LEFT JOIN ({_PER_RULE.format(in_verdicts=scope.format(id="sample_id"))}) r ON r.sample_id = s.id
            GROUP BY s.id) f
      -- the scope again on the target lets DuckDB skip the row groups outside it
      WHERE samples.id = f.id AND {scope.format(id="samples.id")}
        AND (samples.verdict_failed IS DISTINCT FROM f.failed
        OR samples.verdict_unsure IS DISTINCT FROM f.unsure
        OR samples.verdict_disagree IS DISTINCT FROM f.disagree)"""
