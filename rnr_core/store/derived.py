"""Values the review queue filters on, kept beside their source so filters never parse JSON or
aggregate verdicts per query: rule kinds and categories per prompt (and per edited sample), and
per-sample verdict flags. Migration 5 fills them; the writers of rules and verdicts keep them.
Likewise the judge audit's risky items and human labels (migration 6), and the Home page's rule
outcomes (migration 8)."""

from rnr_core.review import TASKS
from rnr_core.store.effective import decided, deciding, owner, rules, with_rules


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


_PER_RULE = f"""SELECT sample_id, rule_id,
    {deciding("verdict")} FILTER (WHERE verdict IN ('pass', 'fail')) AS decided,
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


def labels_asked(task: str) -> str:
    """SQL for the labels asked per item of `task` (one of rnr_core.review.TASKS); 1 unless set."""
    if task not in TASKS:  # inlined, so never anything but a known task's name
        raise ValueError(f"unknown task {task!r}")
    return f"(SELECT coalesce(max(labels_per_item), 1) FROM tasks WHERE kind = '{task}')"


_LABELS = "count(*) FILTER (WHERE judge LIKE 'human:%')"
_ADJUDICATED = "bool_or(judge LIKE 'adjudicator:%')"
# Whether a rule's item is closed, as an aggregate over the rule's human and adjudicator verdicts
# (`judge`): for person $me ('human:<name>', or NULL) with $n labels asked per item, enough people
# labelled it, $me did, or an adjudicator decided it. With $n = 1 it is "someone labelled it".
CLOSED = f"{_LABELS} >= $n OR bool_or(judge = $me) OR {_ADJUDICATED}"
# The same for everyone (the audit's kept items), at the audit task's labels per item.
KEPT_CLOSED = f"{_LABELS} >= {labels_asked('audit')} OR {_ADJUDICATED}"
# As the audit was before labels per item could be set (migration 6 runs before the tasks table exists).
LABELLED_ONCE = f"{_LABELS} >= 1"
PEOPLE = "(judge LIKE 'human:%' OR judge LIKE 'adjudicator:%')"


def open_items(where: str, closed: str = CLOSED) -> str:
    """CTEs ending in `items`: current checker and LLM verdicts matching `where` on rules not `closed` (an
    aggregate over each rule's human and adjudicator verdicts, such as CLOSED), each with the checker's
    verdict on the same rule where an LLM judge also gave one (rare: the checker takes verifiable rules,
    the LLM free-form ones), whether they disagree, whether the
    judge was unsure, and whether it is a checker verdict an LLM verdict also covers (the queue leaves
    those to the LLM's item unless asked for the checker, so one rule is not offered twice)."""
    return f"""current AS MATERIALIZED (
    SELECT sample_id, rule_id, hash(rule_id) AS rule_h, judge, verdict FROM verdicts
    WHERE {where} AND stale IS NOT TRUE),
labelled AS (SELECT sample_id, rule_h FROM current WHERE {PEOPLE} GROUP BY ALL HAVING {closed}),
machine AS (
    SELECT v.* FROM current v ANTI JOIN labelled l ON l.sample_id = v.sample_id AND l.rule_h = v.rule_h
    WHERE judge = 'checker' OR judge LIKE 'llm:%'),
both_judged AS (
    SELECT c.sample_id, c.rule_h, any_value(c.verdict) AS checker_verdict,
        bool_or(c.verdict IN ('pass', 'fail') AND l.verdict IN ('pass', 'fail') AND l.verdict <> c.verdict)
            AS contradicted
    FROM machine c JOIN machine l ON l.sample_id = c.sample_id AND l.rule_h = c.rule_h
    WHERE c.judge = 'checker' AND l.judge LIKE 'llm:%' GROUP BY c.sample_id, c.rule_h),
items AS (
    SELECT m.*, b.checker_verdict,
        CASE WHEN m.judge = 'checker' THEN coalesce(b.contradicted, false)
            ELSE coalesce(m.verdict IN ('pass', 'fail') AND b.checker_verdict IN ('pass', 'fail')
                AND m.verdict <> b.checker_verdict, false) END AS disagree,
        m.verdict NOT IN ('pass', 'fail') AS unsure,
        m.judge = 'checker' AND b.sample_id IS NOT NULL AS covered
    FROM machine m LEFT JOIN both_judged b ON b.sample_id = m.sample_id AND b.rule_h = m.rule_h)"""


_KEPT_COLUMNS = "x.sample_id, x.rule_id, x.judge, x.risk, x.covered, r.category, r.kind"


def refresh_audit_sql(scope: str, closed: str = KEPT_CLOSED) -> list[str]:
    """Statements that recompute the judge audit's kept verdicts of the samples in `scope` (a predicate
    on the sample id written `{id}`): each open item (not `closed` to everyone) whose judges disagree
    (risk 0) or whose judge was unsure (risk 1), and each current human label and adjudication (risk
    NULL), with its rule's category and kind and whether it is a checker verdict an LLM verdict covers."""
    return [
        f"DELETE FROM audit_verdicts WHERE {scope.format(id='sample_id')}",
        f"""INSERT INTO audit_verdicts WITH scope AS (
            SELECT id, system_prompt_id, edited_rules FROM samples WHERE {scope.format(id="id")}),
        {rules(prompts="id IN (SELECT system_prompt_id FROM scope)", samples="scope")},
        {open_items(scope.format(id="sample_id"), closed)},
        kept AS (
            SELECT sample_id, rule_h, rule_id, judge, CASE WHEN disagree THEN 0 ELSE 1 END AS risk, covered
            FROM items WHERE disagree OR unsure
            UNION ALL
            SELECT sample_id, rule_h, rule_id, judge, NULL, false FROM current WHERE {PEOPLE}),
        {with_rules("located", "kept", _KEPT_COLUMNS, "scope")}
        SELECT * FROM located""",
    ]


def refresh_outcomes_sql(scope: str) -> list[str]:
    """Statements that recompute the Home page's kept rule outcomes of the samples in `scope` (a predicate
    on the sample id written `{id}`): per sample, how many of its current rules have a deciding verdict
    (n) and how many of those pass, by the rule's category and kind. Home sums them instead of deciding
    every verdict of the store on each visit."""
    # One row per sample and (category, kind), never a shared total: writers of different samples (a job,
    # a reviewer) then never update the same row, so they cannot conflict.
    return [
        f"DELETE FROM rule_outcomes WHERE {scope.format(id='sample_id')}",
        f"""INSERT INTO rule_outcomes WITH scope AS (
            SELECT id, system_prompt_id, edited_rules FROM samples WHERE {scope.format(id="id")}),
        {rules(prompts="id IN (SELECT system_prompt_id FROM scope)", samples="scope")},
        {decided(scope.format(id="sample_id"))}
        SELECT d.sample_id, r.category, r.kind, (count(*) FILTER (WHERE d.passed))::INTEGER, count(*)::INTEGER
        FROM decided d JOIN scope s ON s.id = d.sample_id
        JOIN rules r ON r.owner = {owner()} AND r.rule_h = d.rule_h
        GROUP BY ALL ORDER BY d.sample_id""",
    ]
