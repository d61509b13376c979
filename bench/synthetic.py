"""A synthetic store built with SQL alone: prompts with rules, samples, verdicts, edits and reviews.

Every value derives from the row number, so two builds of the same size are identical.
"""

from rnr_core.rules import CATEGORIES, KINDS
from rnr_core.store import Store

RULES_PER_PROMPT = 4
SAMPLES_PER_PROMPT = 4
RUNS = 10
WORDS = ("apple", "river", "engine", "violin", "quartz", "harbor", "tundra", "pepper", "glacier", "saddle")


def _pick(values, key: str) -> str:
    """SQL picking one of `values` by a hash of `key`."""
    listed = "[" + ", ".join(f"'{v}'" for v in values) + "]"
    return f"{listed}[1 + (hash({key}) % {len(values)})::BIGINT]"


def build(path: str, n: int = 1_000_000) -> Store:
    """A store at `path` with n samples, then its queue index rebuilt."""
    store = Store(path)
    store.con.execute("SET enable_progress_bar = false")
    prompts = max(1, n // SAMPLES_PER_PROMPT)
    with store.transaction():
        for sql in _statements(n, prompts):
            store.con.execute(sql)
    store.reindex()
    store.con.execute("CHECKPOINT")
    return store


def _statements(n: int, prompts: int) -> list[str]:
    per = SAMPLES_PER_PROMPT
    return [
        "INSERT INTO datasets (id, name) VALUES (1, 'alpaca'), (2, 'ultrachat'), (3, 'sharegpt')",
        "INSERT INTO runs (id, dataset_id, model, config, status) "
        f"SELECT 'run' || i, 1 + i % 3, 'm', '{{}}', 'completed' FROM range({RUNS}) t(i)",
        # A third of the rules are free-form (kind NULL); the others draw a registry kind.
        f"""CREATE TEMP TABLE bench_rules AS SELECT p, j,
            CASE WHEN hash(p, j, 'k') % 3 = 0 THEN NULL ELSE {_pick(sorted(KINDS), "p, j")} END AS kind,
            {_pick(CATEGORIES, "p, j, 'c'")} AS category
            FROM range(1, {prompts + 1}) a(p), range(1, {RULES_PER_PROMPT + 1}) b(j)""",
        """INSERT INTO system_prompts (id, run_id, group_idx, role, rules, text, model, template)
            SELECT p, 'run' || (p % 10), p, 'You are helper number ' || p || '.',
              '[' || string_agg('{"id": "r' || j || '", "text": "Rule ' || j || ' of prompt ' || p
                || '.", "category": "' || category || '", "kind": '
                || coalesce('"' || kind || '"', 'null') || ', "kwargs": '
                || CASE WHEN kind IS NULL THEN 'null' ELSE '{}' END || '}', ', ' ORDER BY j) || ']',
              'You are helper number ' || p || E'.\\n\\nRules:\\n'
                || string_agg(j || '. Rule ' || j || ' of prompt ' || p || '.', E'\\n' ORDER BY j),
              'm', 'system_prompt.v2'
            FROM bench_rules GROUP BY p""",
        f"""INSERT INTO samples (id, run_id, item_key, system_prompt_id, instruction_id, kind, messages,
              response, status, model, template, params, seed, reviewer, reject_reason)
            SELECT i, 'run' || ((1 + (i - 1) // {per}) % 10), 'k' || i, 1 + (i - 1) // {per}, i,
              CASE WHEN i % 5 = 0 THEN 'tempting' ELSE 'plain' END,
              '[{{"role": "user", "content": "Question ' || i || ' about the ' || {_pick(WORDS, "i")}
                || ' and the ' || {_pick(WORDS, "i, 'w'")} || '?"}}]',
              'Answer ' || i || ': ' || repeat('the ' || {_pick(WORDS, "i, 'r'")} || ' is fine. ', 40),
              {_pick(["pending"] * 6 + ["accepted"] * 3 + ["rejected"], "i, 's'")},
              'm', {_pick(["response_guidance.v1", "response_guidance.v2"], "i, 't'")}, '{{}}', i,
              NULL, NULL
            FROM range(1, {n + 1}) t(i)""",
        "UPDATE samples SET reviewer = CASE WHEN id % 2 = 0 THEN 'alice' ELSE 'bob' END "
        "WHERE status <> 'pending'",
        f"UPDATE samples SET reject_reason = {_pick(['rule_broken', 'unsafe', 'other'], 'id')} "
        "WHERE status = 'rejected'",
        # One sample in a hundred carries an edit: another prompt's role and rules.
        f"""UPDATE samples s SET edited_role = p.role || ' (edited)', edited_rules = p.rules,
              edited_prompt = p.text, version = 2
            FROM system_prompts p
            WHERE s.id % 100 = 7 AND p.id = 1 + (s.system_prompt_id * 7) % {prompts}""",
        # The checker on verifiable rules, an LLM judge on free-form ones; 5% fail, 2% of the LLM's unsure.
        # An edited sample's verdicts are stale. Verdicts are written in sample order, as the
        # pipeline and the judge write them.
        """INSERT INTO verdicts (sample_id, rule_id, judge, verdict, stale)
            SELECT s.id, 'r' || r.j, CASE WHEN r.kind IS NULL THEN 'llm:m' ELSE 'checker' END,
              CASE WHEN hash(s.id, r.j) % 20 = 0 THEN 'fail'
                WHEN r.kind IS NULL AND hash(s.id, r.j) % 50 = 1 THEN 'unknown' ELSE 'pass' END,
              s.edited_rules IS NOT NULL
            FROM samples s JOIN bench_rules r ON r.p = s.system_prompt_id ORDER BY s.id, r.j""",
        # One sample in a hundred also has the LLM judge on its verifiable rules, so the two may disagree.
        """INSERT INTO verdicts (sample_id, rule_id, judge, verdict, stale)
            SELECT s.id, 'r' || r.j, 'llm:m',
              CASE WHEN hash(s.id, r.j, 'x') % 4 = 0 THEN 'fail' ELSE 'pass' END, false
            FROM samples s JOIN bench_rules r ON r.p = s.system_prompt_id
            WHERE s.id % 100 = 3 AND r.kind IS NOT NULL ORDER BY s.id, r.j""",
        # A person overrules one sample in a thousand on its first rule.
        """INSERT OR REPLACE INTO verdicts (sample_id, rule_id, judge, verdict, stale)
            SELECT id, 'r1', 'human:carol', CASE WHEN id % 2000 = 0 THEN 'fail' ELSE 'pass' END, false
            FROM samples WHERE id % 1000 = 0 ORDER BY id""",
        "DROP TABLE bench_rules",
    ]
