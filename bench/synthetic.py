"""A synthetic store built with SQL alone: samples, system prompts with rules, verdicts, edits and reviews."""

from rnr_core.rules import CATEGORIES, KINDS
from rnr_core.store import Store

RULES_PER_PROMPT = 4
SAMPLES_PER_PROMPT = 4
RUNS = 10
WORDS = ("apple", "river", "engine", "violin", "quartz", "harbor", "tundra", "pepper", "glacier", "saddle")


def _list(values) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def build(path: str, n: int = 1_000_000) -> Store:
    """A store at `path` with n samples; every value derives from the row number, so builds repeat."""
    store = Store(path)
    prompts = max(1, n // SAMPLES_PER_PROMPT)
    for sql in _statements(n, prompts):
        store.con.execute(sql)
    return store


def _statements(n: int, prompts: int) -> list[str]:
    kinds, cats, words = _list(sorted(KINDS)), _list(CATEGORIES), _list(WORDS)
    return [
        "INSERT INTO datasets (id, name) VALUES (1, 'alpaca'), (2, 'ultrachat'), (3, 'sharegpt')",
        f"INSERT INTO runs (id, dataset_id, model, config, status) SELECT 'run' || i, 1 + i % 3, 'm', '{{}}', "
        f"'done' FROM range({RUNS}) t(i)",
        # A third of rules are free-form (kind NULL); the rest draw a registry kind.
        f"""CREATE TEMP TABLE bench_rules AS SELECT p, j,
            CASE WHEN hash(p, j, 'k') % 3 = 0 THEN NULL ELSE {kinds}[1 + (hash(p, j) % {len(KINDS)})::BIGINT] END AS kind,
            {cats}[1 + (hash(p, j, 'c') % {len(CATEGORIES)})::BIGINT] AS category
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
            SELECT i, 'run' || ((1 + (i - 1) // {SAMPLES_PER_PROMPT}) % 10), 'k' || i,
              1 + (i - 1) // {SAMPLES_PER_PROMPT}, i, CASE WHEN i % 5 = 0 THEN 'tempting' ELSE 'plain' END,
              '[{{"role": "user", "content": "Question ' || i || ' about the ' || {words}[1 + (hash(i) % 10)::BIGINT]
                || ' and the ' || {words}[1 + (hash(i, 'w') % 10)::BIGINT] || '?"}}]',
              'Answer ' || i || ': ' || repeat('the ' || {words}[1 + (hash(i, 'r') % 10)::BIGINT] || ' is fine. ', 40),
              CASE WHEN hash(i, 's') % 10 < 6 THEN 'pending' WHEN hash(i, 's') % 10 < 9 THEN 'accepted'
                ELSE 'rejected' END,
              'm', CASE WHEN i % 2 = 0 THEN 'response_guidance.v1' ELSE 'response_guidance.v2' END, '{{}}', i,
              CASE WHEN hash(i, 's') % 10 >= 6 THEN ['alice', 'bob'][1 + (i % 2)::BIGINT] END,
              CASE WHEN hash(i, 's') % 10 = 9 THEN ['rule_broken', 'unsafe', 'other'][1 + (i % 3)::BIGINT] END
            FROM range(1, {n + 1}) t(i)""",
        # One sample in a hundred carries an edit: another prompt's rules.
        """UPDATE samples s SET edited_role = p.role || ' (edited)', edited_rules = p.rules,
              edited_prompt = p.text, version = 2
            FROM system_prompts p WHERE s.id % 100 = 7 AND p.id = 1 + (s.system_prompt_id * 7) % (SELECT max(id) FROM system_prompts)""",
        # The checker on verifiable rules, an LLM judge on free-form ones; 5% fail, 2% of LLM verdicts unsure.
        """INSERT INTO verdicts (sample_id, rule_id, judge, verdict, stale)
            SELECT s.id, 'r' || r.j, CASE WHEN r.kind IS NULL THEN 'llm:m' ELSE 'checker' END,
              CASE WHEN hash(s.id, r.j) % 20 = 0 THEN 'fail'
                WHEN r.kind IS NULL AND hash(s.id, r.j) % 50 = 1 THEN 'unknown' ELSE 'pass' END,
              s.edited_rules IS NOT NULL
            FROM samples s JOIN bench_rules r ON r.p = s.system_prompt_id""",
        # One sample in a hundred also has the LLM judge on its verifiable rules (so the two may disagree).
        """INSERT INTO verdicts (sample_id, rule_id, judge, verdict, stale)
            SELECT s.id, 'r' || r.j, 'llm:m', CASE WHEN hash(s.id, r.j, 'x') % 4 = 0 THEN 'fail' ELSE 'pass' END,
              false
            FROM samples s JOIN bench_rules r ON r.p = s.system_prompt_id
            WHERE s.id % 100 = 3 AND r.kind IS NOT NULL""",
        "DROP TABLE bench_rules",
        "CHECKPOINT",
    ]
