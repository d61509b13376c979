"""SQL pieces for the rules a sample is judged on and the verdict that decides each rule.

A sample's rules are its reviewer-edited ones when set, else its system prompt's. Prompts are
shared by K samples, so their rules are unnested once per prompt, never once per sample. Verdicts
meet rules on (owner, hash(rule id)): integer join keys are several times faster than text ones at
millions of verdicts, and two rule ids of one prompt sharing a 64-bit hash is not a practical risk.
"""

from rnr_core.stats import FREE_FORM, PRECEDENCE

_FIELDS = """'[{"id": "VARCHAR", "text": "VARCHAR", "category": "VARCHAR", "kind": "VARCHAR"}]'"""
_COLUMNS = f"id AS rule_id, hash(id) AS rule_h, text, category, coalesce(kind, '{FREE_FORM}') AS kind"


def rules(name: str = "rules", prompts: str = "true", samples: str = "samples") -> str:
    """CTE `name`: (owner, rule_id, rule_h, text, category, kind) of the rules of the system prompts
    matching `prompts` (owner: the prompt's id) and of the edited samples in `samples` (owner: minus
    the sample's id), so one join reaches either kind of rule; see `owner`."""
    return f"""{name} AS (
    SELECT owner, {_COLUMNS} FROM (
        SELECT id AS owner, unnest(from_json(rules, {_FIELDS}), recursive := true)
        FROM system_prompts WHERE {prompts})
    UNION ALL
    SELECT owner, {_COLUMNS} FROM (
        SELECT -id AS owner, unnest(from_json(edited_rules, {_FIELDS}), recursive := true)
        FROM {samples} WHERE edited_rules IS NOT NULL))"""


def owner(s: str = "s") -> str:
    """SQL for whose rules sample `s` is judged on: its own edited ones, else its system prompt's."""
    return f"CASE WHEN {s}.edited_rules IS NULL THEN {s}.system_prompt_id ELSE -{s}.id END"


RULES = rules()


def rules_of_few(source: str) -> str:
    """CTEs `scope` and `rules` for just the samples in `source` (a few, such as the labelled ones):
    only their prompts' rules are unnested."""
    return f"""scope AS (
    SELECT id, system_prompt_id, edited_rules FROM samples WHERE id IN (SELECT sample_id FROM {source})),
{rules(prompts="id IN (SELECT system_prompt_id FROM scope)", samples="scope")}"""


def judge_rank(column: str = "judge") -> str:
    """SQL for a judge's precedence in rnr_core.stats.PRECEDENCE, higher deciding (the first entry, an
    adjudicator, highest; 0 for a judge it does not name)."""
    n = len(PRECEDENCE)
    ranks = " ".join(f"WHEN starts_with({column}, '{p}') THEN {n - i}" for i, p in enumerate(PRECEDENCE))
    return f"CASE {ranks} ELSE 0 END"


_RANK = judge_rank()
# Precedence, then time, as one integer: microseconds since 1970 stay below 2**52 until 2112.
_ORDER = f"(({_RANK}) * 4503599627370496 + epoch_us(created_at))"
_CURRENT = "stale IS NOT TRUE AND verdict IN ('pass', 'fail')"


def deciding(value: str) -> str:
    """SQL aggregate: `value` of the deciding verdict among a group's verdicts, picked as `decided` picks
    it (highest-precedence judge, latest first, then the judge first by name)."""
    return f"arg_min({value}, (-{_ORDER}, judge))"


def decided(where: str = "true") -> str:
    """CTEs ending in `decided`: (sample_id, rule_h, passed) for every rule with a current pass/fail
    verdict among the verdicts matching `where` (a predicate on their sample_id): the highest-precedence
    judge's, latest first, and among equals the judge first by name, as rnr_core.stats picks it."""
    # Integer maxima keep the group-by cheap: `a` is highest for the top verdict with pass ranked above
    # fail, `b` with fail above pass; a > b means the top verdicts all pass, b > a all fail, and a = b
    # that equally ranked judges differ, which the judges' names then settle (rare: same rule, same instant).
    return f"""decided_keys AS (
    SELECT sample_id, hash(rule_id) AS rule_h, max({_ORDER} * 2 + (verdict = 'pass')::INT) AS a,
        max({_ORDER} * 2 + (verdict = 'fail')::INT) AS b
    FROM verdicts WHERE {where} AND {_CURRENT} GROUP BY sample_id, rule_h),
tied AS (SELECT sample_id, rule_h, a // 2 AS top FROM decided_keys WHERE a = b),
tie_broken AS (
    SELECT t.sample_id, t.rule_h, arg_min(v.verdict, v.judge) = 'pass' AS passed
    FROM tied t JOIN (SELECT *, hash(rule_id) AS rule_h, {_ORDER} AS top FROM verdicts
        WHERE {where} AND {_CURRENT} AND sample_id IN (SELECT sample_id FROM tied)) v
        USING (sample_id, rule_h, top)
    GROUP BY t.sample_id, t.rule_h),
decided AS (
    SELECT sample_id, rule_h, a > b AS passed FROM decided_keys WHERE a <> b
    UNION ALL SELECT * FROM tie_broken)"""


DECIDED = decided()


def with_rules(
    name: str, source: str, columns: str, samples: str = "samples", rule_cte: str = "rules"
) -> str:
    """CTE `name`: `columns` of `source` (a relation with sample_id and rule_h, aliased x) joined to
    the effective rule each row is on (aliased r, from `rule_cte`); rows on rules a sample no longer
    has drop out."""
    return f"""{name} AS (
        SELECT {columns} FROM {source} x JOIN {samples} s ON s.id = x.sample_id
        JOIN {rule_cte} r ON r.owner = {owner()} AND r.rule_h = x.rule_h)"""
