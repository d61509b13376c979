"""A synthetic store of N samples for the app benchmark, built in SQL (no Python loops over rows).

Shape: 3 datasets, 20 runs, one system prompt per K samples with 4 rules of mixed categories and
kinds (r1 always checkable, r2 checkable on every other prompt, r3/r4 free-form), checker verdicts
on checkable rules, an LLM judge on free-form rules (some unknown, some missing) and on a fifth of
r1s (so checker and judge can disagree), human labels on 2 %, 20 % accepted and 10 % rejected with
a reason, and 2 % edited (edited_* columns, two revisions, stale verdicts).
"""

from rnr_core.store import Store

RUNS = 20
WORDS = (
    "apple river network system garden energy python window market signal travel music history "
    "ocean planet engine budget letter summary policy design kitchen recipe poem student teacher "
    "science climate forest mountain city village bridge railway coffee language grammar memory "
    "storage database record format lesson account customer weather season holiday report project "
    "meeting schedule feature release version health exercise sleep reading writing painting camera "
    "picture animal bird winter zebra quartz violet saffron lantern harbour compass"
).split()
CHECKABLE = [
    ("length_constraints:number_words", "length"),
    ("detectable_format:title", "format"),
    ("change_case:english_capital", "style"),
    ("keywords:existence", "content"),
    ("detectable_format:number_bullet_lists", "format"),
]
FREE_CATEGORIES = ["style", "content", "language", "persona", "safety", "format", "length"]
REASONS = ["rule_broken", "wrong_role", "unsafe", "low_quality", "duplicate", "other"]


def _list(values) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def _words(seed_expr: str, n: int) -> str:
    """SQL for n pseudo-random words joined by spaces, chosen by hashing `seed_expr`."""
    return (
        f"array_to_string(list_transform(range({n}), lambda x: {_list(WORDS)}"
        f"[(hash({seed_expr} * 131 + x) % {len(WORDS)})::INT + 1]), ' ')"
    )


def _rule(index: int, checkable_when: str) -> str:
    """SQL struct of rule r<index> of prompt i: a checker kind when `checkable_when`, else free-form."""
    pick = f"(hash(i * 7 + {index}) % {len(CHECKABLE)})::INT + 1"
    free = f"{_list(FREE_CATEGORIES)}[(hash(i * 11 + {index}) % {len(FREE_CATEGORIES)})::INT + 1]"
    return (
        f"{{'id': 'r{index}', 'text': 'Rule {index}: ' || {_words(f'i * 4 + {index}', 6)}, "
        f"'category': CASE WHEN {checkable_when} THEN {_list(c for _, c in CHECKABLE)}[{pick}] "
        f"ELSE {free} END, "
        f"'kind': CASE WHEN {checkable_when} THEN {_list(k for k, _ in CHECKABLE)}[{pick}] END, "
        f"'kwargs': CASE WHEN {checkable_when} THEN '{{}}'::JSON END}}"
    )


def seed_sql(n: int, k: int) -> list[str]:
    prompts = -(-n // k)
    run_of_prompt = f"(i * {RUNS} // {prompts})"
    return [
        "INSERT INTO datasets (id, name) SELECT i + 1, "
        "['bench-alpaca', 'bench-ultrachat', 'bench-sharegpt'][i + 1] FROM range(3) t(i)",
        "INSERT INTO runs (id, dataset_id, model, config, status, created_at, updated_at) "
        f"SELECT 'run-' || lpad(i::VARCHAR, 2, '0'), i % 3 + 1, ['teacher-a', 'teacher-b'][i % 2 + 1], "
        "'{}', 'done', TIMESTAMP '2025-01-01' + to_days(i::INT), TIMESTAMP '2025-01-01' + to_days(i::INT) "
        f"FROM range({RUNS}) t(i)",
        # Rules first, then the prompt text rendered from them, as the generator does.
        "CREATE TEMP TABLE bench_prompts AS SELECT i, "
        f"[{_rule(1, 'true')}, {_rule(2, 'i % 2 = 0')}, {_rule(3, 'false')}, {_rule(4, 'false')}] AS rules, "
        f"'You are a ' || {_words('i', 3)} || ' assistant (persona ' || i || ').' AS role "
        f"FROM range({prompts}) t(i)",
        "INSERT INTO system_prompts (id, run_id, group_idx, role, rules, text, model, template) "
        f"SELECT i + 1, 'run-' || lpad({run_of_prompt}::VARCHAR, 2, '0'), i, role, to_json(rules), "
        "role || chr(10) || chr(10) || 'Rules:' || chr(10) || "
        "array_to_string(list_transform(rules, lambda r, j: j || '. ' || r.text), chr(10)), "
        "'teacher-a', 'system_prompt/v2' FROM bench_prompts",
        "CREATE TEMP TABLE bench_samples AS SELECT j, j // "
        f"{k} AS i, hash(j) % 100 AS h, hash(j * 3 + 1) % 100 AS e FROM range({n}) t(j)",
        "INSERT INTO samples (id, run_id, item_key, system_prompt_id, instruction_id, kind, messages, "
        "response, status, model, template, params, seed, reviewer, reject_reason, review_note, "
        "reviewed_at, version, edited_role, edited_rules, edited_prompt) "
        f"SELECT j + 1, 'run-' || lpad({run_of_prompt}::VARCHAR, 2, '0'), 'g' || i || ':r' || j % {k}, "
        f"i + 1, j + 1, CASE j % {k} WHEN 3 THEN 'tempting' WHEN 4 THEN 'out_of_scope' ELSE 'plain' END, "
        f"to_json([{{'role': 'user', 'content': 'Question ' || j || ': ' || {_words('j', 12)} || '?'}}]), "
        f"{_words('j + 7', 60)}, "
        "CASE WHEN h < 70 THEN 'pending' WHEN h < 90 THEN 'accepted' ELSE 'rejected' END, "
        "'teacher-a', ['response/v1', 'response/v2'][j % 2 + 1], '{}', j, "
        "CASE WHEN h >= 70 THEN ['ann', 'bob'][j % 2 + 1] END, "
        f"CASE WHEN h >= 90 THEN {_list(REASONS)}[(h % {len(REASONS)})::INT + 1] END, "
        "CASE WHEN h >= 95 THEN 'see ' || j END, "
        "CASE WHEN h >= 70 THEN TIMESTAMP '2025-02-01' + to_seconds(j::BIGINT) END, "
        "CASE WHEN e < 2 THEN 2 ELSE 1 END, "
        "CASE WHEN e < 2 THEN 'You are an edited assistant.' END, "
        "CASE WHEN e < 2 THEN to_json(list_transform(p.rules, "
        "    lambda r: struct_update(r, text := r.text || ' (edited)'))) END, "
        "CASE WHEN e < 2 THEN 'You are an edited assistant.' || chr(10) || chr(10) || 'Rules:' END "
        "FROM bench_samples JOIN bench_prompts p USING (i) ORDER BY j",
        "INSERT INTO sample_revisions (sample_id, revision, author, action, role, rules, system_prompt, "
        "messages, response) SELECT s.id, rev, 'ann', CASE rev WHEN 0 THEN 'generated' ELSE 'edit' END, "
        "coalesce(s.edited_role, p.role), coalesce(s.edited_rules, p.rules), "
        "coalesce(s.edited_prompt, p.text), s.messages, s.response "
        "FROM samples s JOIN system_prompts p ON p.id = s.system_prompt_id, range(2) t(rev) "
        "WHERE s.version = 2 ORDER BY s.id, rev",
        "INSERT INTO review_actions (sample_id, action, reviewer, reason, note, created_at) "
        "SELECT id, CASE status WHEN 'accepted' THEN 'accept' ELSE 'reject' END, reviewer, reject_reason, "
        "review_note, reviewed_at FROM samples WHERE status <> 'pending' ORDER BY id",
        # One row per (sample, rule, judge), in sample order so zone maps on sample_id stay tight.
        "INSERT INTO verdicts (sample_id, rule_id, judge, verdict, rationale, created_at, template, stale) "
        "SELECT b.j + 1, r.id, v.judge, v.verdict, NULL, "
        "TIMESTAMP '2025-01-15' + to_seconds(b.j::BIGINT) + to_seconds(v.lag), "
        "CASE WHEN v.judge LIKE 'llm:%' THEN 'judge/v1' END, b.e < 2 "
        "FROM bench_samples b JOIN bench_prompts p USING (i), "
        "unnest(p.rules) AS u(r), "
        "unnest([{'judge': 'checker', 'lag': 0, 'on': r.kind IS NOT NULL, "
        "         'verdict': CASE WHEN hash(b.j * 5 + r.id[2:]::INT) % 10 = 0 THEN 'fail' ELSE 'pass' END}, "
        "        {'judge': 'llm:bench-judge', 'lag': 60, "
        "         'on': (r.kind IS NULL AND hash(b.j * 13) % 100 >= 3) OR (r.id = 'r1' AND b.h % 5 = 0), "
        "         'verdict': ['pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass', "
        "                     'pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'fail', "
        "                     'fail', 'unknown'][(hash(b.j * 17 + r.id[2:]::INT) % 20)::INT + 1]}, "
        "        {'judge': 'human:ann', 'lag': 120, 'on': r.id = 'r3' AND b.e >= 98, "
        "         'verdict': CASE WHEN b.j % 4 = 0 THEN 'fail' ELSE 'pass' END}]) AS w(v) "
        "WHERE v.on ORDER BY b.j, r.id, v.judge",
        "DROP TABLE bench_prompts",
        "DROP TABLE bench_samples",
    ]


def seed(path: str, n: int, k: int) -> None:
    """Create and fill a fresh store at `path` in one transaction."""
    with Store(path) as store:
        store.con.execute("SET enable_progress_bar = false")
        with store.transaction():
            for sql in seed_sql(n, k):
                store.con.execute(sql)
        if hasattr(store, "reindex"):  # derived values the review queue filters on, where the store keeps any
            store.reindex()
        store.con.execute("CHECKPOINT")  # fold the WAL in, so reopening the file is quick


def sample_count(path: str) -> int:
    with Store(path) as store:
        return store._scalar("SELECT count(*) FROM samples")
