"""The review core: queue filters and paging, search, edits with revisions, conflicts, review actions."""

import asyncio
import json

import duckdb
import pytest

from rnr_core.errors import NotFound, ReviewError, RnrError, VersionConflict
from rnr_core.generate import execute_run, start_run
from rnr_core.judge import judge_samples
from rnr_core.review import REJECT_REASONS, QueueFilter, diff_text, excerpt, plural
from rnr_core.rules import KINDS, build, render_system_prompt, rule_record
from rnr_core.stats import effective_verdict, rule_outcomes, sample_outcome, with_outcomes
from rnr_core.store import Store
from tests.conftest import GOOD_SP, ROOT, ingest_questions, one_group

NO_COMMA = "punctuation:no_comma"
TITLE = "detectable_format:title"  # a kind the benchmark store uses
WORDS = "length_constraints:number_words"


def kinded(index: int, kind: str, kwargs: dict) -> dict:
    return rule_record(index, build(kind, kwargs).render(), KINDS[kind].category, kind, kwargs)


RULES_A = [rule_record(1, "Keep a friendly tone.", "style"), kinded(2, NO_COMMA, {})]
RULES_B = [
    rule_record(1, "Never give medical advice.", "safety"),
    kinded(2, WORDS, {"num_words": 50, "relation": "less than"}),
]
ROLE_A, ROLE_B = "You are a patient tutor.", "You are a careful nurse."


def add_prompt(store, run_id: str, group: int, role: str, rules: list[dict]) -> int:
    return store.add_system_prompt(
        run_id, group, role, rules, render_system_prompt(role, rules), "m", "system_prompt.v2"
    )


def add_sample(store, prompt_id: int, run_id: str, key: str, question: str, response: str = "Fine.") -> int:
    return store.add_sample(
        {
            "run_id": run_id,
            "item_key": key,
            "system_prompt_id": prompt_id,
            "instruction_id": None,
            "kind": "plain",
            "messages": [{"role": "user", "content": question}],
            "response": response,
            "model": "m",
            "template": "response_guidance.v1",
            "params": {},
            "seed": 1,
        }
    )


def add_run(store, tmp_path, run_id: str, dataset: str) -> None:
    ingest_questions(store, tmp_path, 1, dataset)
    store.create_run(run_id, store.dataset_id(dataset), "m", {})


def verdict(rule_id: str, value: str) -> list[dict]:
    return [{"rule_id": rule_id, "verdict": value}]


@pytest.fixture
def world(store, tmp_path):
    """Five samples over two datasets, two runs and two prompts, with statuses, reviewers and verdicts."""
    add_run(store, tmp_path, "run-a", "alpha")
    add_run(store, tmp_path, "run-b", "beta")
    pa, pb = add_prompt(store, "run-a", 0, ROLE_A, RULES_A), add_prompt(store, "run-b", 0, ROLE_B, RULES_B)
    ids = {
        "s1": add_sample(store, pa, "run-a", "k1", "How do plants grow?"),
        "s2": add_sample(store, pa, "run-a", "k2", "Why is the sky blue?"),
        "s3": add_sample(store, pb, "run-b", "k3", "What is a fever?"),
        "s4": add_sample(store, pb, "run-b", "k4", "How should I rest?"),
        "s5": add_sample(store, pb, "run-b", "k5", "Tell me a story."),
    }
    store.add_verdicts(ids["s1"], "checker", verdict("r2", "fail"))  # any rule failed
    store.add_verdicts(ids["s2"], "checker", verdict("r2", "pass"))
    store.add_verdicts(ids["s2"], "llm:j", verdict("r1", "unknown"))  # the judge is unsure
    store.add_verdicts(ids["s3"], "checker", verdict("r2", "pass"))
    store.add_verdicts(ids["s3"], "llm:j", verdict("r2", "fail"))  # checker and judge disagree
    store.add_verdicts(ids["s4"], "checker", verdict("r2", "fail"))
    store.add_verdicts(ids["s4"], "human:ann", verdict("r2", "pass"))  # a person overrules the checker
    store.add_verdicts(ids["s5"], "llm:j", verdict("r1", "fail"))
    # The edit makes s5's verdicts stale and gives it its own rule, a persona one.
    pirate = [{"text": "Speak like a pirate.", "category": "persona"}]
    store.save_edit(ids["s5"], 1, "ann", rules=pirate)
    store.review([ids["s2"]], "accept", "ann")
    store.review([ids["s3"]], "reject", "bob", reason="unsafe", note="medical")
    return ids


QUEUE_CASES = [
    ({}, ["s1", "s2", "s3", "s4", "s5"]),
    ({"status": "pending"}, ["s1", "s4", "s5"]),
    ({"status": "rejected"}, ["s3"]),
    ({"dataset": "alpha"}, ["s1", "s2"]),
    ({"run_id": "run-b"}, ["s3", "s4", "s5"]),
    ({"rule_kind": NO_COMMA}, ["s1", "s2"]),
    ({"rule_kind": WORDS}, ["s3", "s4"]),  # s5's edited rules dropped it
    ({"rule_kind": "free-form"}, ["s1", "s2", "s3", "s4", "s5"]),
    ({"category": "persona"}, ["s5"]),
    ({"category": "safety"}, ["s3", "s4"]),
    ({"verdict": "any_failed"}, ["s1"]),  # s4: a person passed it; s5: its fail is stale
    ({"verdict": "judge_unsure"}, ["s2"]),
    ({"verdict": "disagree"}, ["s3"]),
    ({"reviewer": "ann"}, ["s2"]),
    ({"reviewer": "bob"}, ["s3"]),
    ({"status": "pending", "run_id": "run-b", "category": "safety"}, ["s4"]),
    ({"status": "", "search": "  "}, ["s1", "s2", "s3", "s4", "s5"]),  # blank fields do not filter
    ({"dataset": "nope"}, []),
]


@pytest.mark.parametrize("fields, expected", QUEUE_CASES)
def test_each_queue_filter_selects_its_samples(store, world, fields, expected):
    flt = QueueFilter(**fields)
    rows = store.queue(flt)
    assert [r["id"] for r in rows] == [world[name] for name in expected]
    assert store.queue_count(flt) == len(expected)


def test_queue_rows_carry_what_the_list_shows(store, world):
    row = store.queue(QueueFilter(status="rejected"))[0]
    assert row == {
        "id": world["s3"],
        "status": "rejected",
        "dataset": "beta",
        "run_id": "run-b",
        "kind": "plain",
        "instruction": "What is a fever?",
        "reviewer": "bob",
        "reject_reason": "unsafe",
    }


def test_failed_flag_agrees_with_the_deciding_verdicts_of_stats(store, world):
    failed = {r["id"] for r in store.queue(QueueFilter(verdict="any_failed"))}
    samples = store.samples_with_verdicts()
    assert failed == {s["id"] for s in samples if sample_outcome(rule_outcomes(s)) == "fail"}


def test_unknown_filter_values_are_refused(store, world):
    with pytest.raises(ReviewError, match="verdict filter 'maybe'"):
        QueueFilter(verdict="maybe")
    with pytest.raises(ReviewError, match="status 'done'"):
        store.queue(QueueFilter(status="done"))


def test_excerpt_is_the_last_user_turn_on_one_line():
    messages = [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "reply"},
        {"role": "user", "content": "second\n  " + "x" * 300},
    ]
    text = excerpt(messages)
    assert text.startswith("second x") and len(text) == 160 and text.endswith("…")


@pytest.fixture
def many(store, tmp_path):
    """25 samples of one prompt; the odd-numbered ones (1st, 3rd, ...) are accepted."""
    add_run(store, tmp_path, "run-a", "alpha")
    prompt = add_prompt(store, "run-a", 0, ROLE_A, RULES_A)
    ids = [add_sample(store, prompt, "run-a", f"k{i}", f"Question {i}?") for i in range(25)]
    store.review(ids[::2], "accept", "ann")
    return ids


def test_keyset_pages_go_forward_and_back(store, many):
    everything = QueueFilter()
    page = lambda **kw: [r["id"] for r in store.queue(everything, limit=10, **kw)]  # noqa: E731
    assert page() == many[:10]
    assert page(after_id=many[9]) == many[10:20]
    assert page(after_id=many[19]) == many[20:]
    assert page(after_id=many[-1]) == []
    assert page(before_id=many[20]) == many[10:20]
    assert page(before_id=many[10]) == many[:10]
    assert page(before_id=many[3]) == many[:3]
    assert page(before_id=many[0]) == []
    assert page(after_id=many[2], before_id=many[8]) == many[3:8]
    assert store.queue_count(everything) == 25


def test_backward_pages_reach_past_wide_gaps(store, many, monkeypatch):
    monkeypatch.setattr("rnr_core.store.review._WINDOW", 2)  # many windows, each growing
    accepted = QueueFilter(status="accepted")
    assert [r["id"] for r in store.queue(accepted, limit=4, before_id=many[-1])] == many[16:24:2]
    assert [r["id"] for r in store.queue(accepted, limit=20, before_id=many[3])] == many[0:3:2]
    assert store.neighbours(accepted, many[-1]) == (many[22], None)


def test_neighbours_follow_the_filter(store, many):
    accepted = QueueFilter(status="accepted")
    assert store.neighbours(accepted, many[10]) == (many[8], many[12])
    assert store.neighbours(accepted, many[11]) == (many[10], many[12])  # from a sample outside it
    assert store.neighbours(accepted, many[0]) == (None, many[2])
    assert store.neighbours(accepted, many[24]) == (many[22], None)
    assert store.neighbours(QueueFilter(status="rejected"), many[5]) == (None, None)


@pytest.fixture
def texts(store, tmp_path):
    """Samples whose texts hold LIKE's wildcards, quotes and accents, and one edited prompt."""
    add_run(store, tmp_path, "run-a", "alpha")
    plain = add_prompt(store, "run-a", 0, ROLE_A, RULES_A)
    zebra = add_prompt(store, "run-a", 1, "You are a Zebra keeper.", RULES_A)
    ids = {
        "percent": add_sample(store, plain, "run-a", "k1", "Is it 100% safe?"),
        "percent_word": add_sample(store, plain, "run-a", "k2", "Is it 100 percent safe?"),
        "underscore": add_sample(store, plain, "run-a", "k3", "Naming?", "Use snake_case names."),
        "no_underscore": add_sample(store, plain, "run-a", "k4", "Naming?", "Use snakeXcase names."),
        "quoted": add_sample(store, plain, "run-a", "k5", 'He said "hello" in the café.'),
        "zebra": add_sample(store, zebra, "run-a", "k6", "Feeding times?"),
        "walrus": add_sample(store, zebra, "run-a", "k7", "Bath times?"),
        "backslash": add_sample(store, plain, "run-a", "k8", "Paths?", "Use C:\\temp here."),
    }
    store.save_edit(ids["walrus"], 1, "ann", role="You are a Walrus guide.")
    return ids


SEARCHES = [
    ("100%", ["percent"]),
    ("%", ["percent"]),
    ("snake_case", ["underscore"]),
    ("_", ["underscore"]),
    ('said "hello"', ["quoted"]),
    ("café", ["quoted"]),
    ("ZEBRA", ["zebra"]),  # the generated prompt; the edited sibling's prompt no longer says it
    ("walrus", ["walrus"]),
    ("C:\\temp", ["backslash"]),
    ("SNAKEXCASE", ["no_underscore"]),
    ("nothing like this", []),
]


@pytest.mark.parametrize("text, expected", SEARCHES)
def test_search_matches_text_literally_and_ignores_case(store, texts, text, expected):
    flt = QueueFilter(search=text)
    assert [r["id"] for r in store.queue(flt)] == [texts[name] for name in expected]
    assert store.queue_count(flt) == len(expected)


@pytest.fixture
def one(store, tmp_path):
    add_run(store, tmp_path, "run-a", "alpha")
    prompt = add_prompt(store, "run-a", 0, ROLE_A, RULES_A)
    sibling = add_sample(store, prompt, "run-a", "k0", "Sibling?")
    return add_sample(store, prompt, "run-a", "k1", "How do plants grow?", "Plants need light."), sibling


def test_edit_keeps_history_shows_a_diff_and_reverts(store, one):
    sid, sibling = one
    generated = store.review_sample(sid)
    saved = store.save_edit(sid, 1, "ann", role="You are a strict tutor.", response="Light and water.")
    assert saved["version"] == 2 and saved["revision"] == 1
    assert "-You are a patient tutor." in saved["diff"] and "+You are a strict tutor." in saved["diff"]
    assert "-Plants need light." in saved["diff"] and "+Light and water." in saved["diff"]
    now = store.review_sample(sid)
    assert now["role"] == "You are a strict tutor." and now["response"] == "Light and water."
    assert now["system_prompt"] == render_system_prompt("You are a strict tutor.", RULES_A)
    assert now["version"] == 2 and now["revision_count"] == 2
    # the sample's other readers see the edit; its sibling of the same prompt does not change
    assert store.get_sample(sid)["role"] == "You are a strict tutor."
    assert store.export_samples(["pending"])[1]["system_prompt"] == now["system_prompt"]
    assert store.get_sample(sibling)["role"] == ROLE_A

    rules = [dict(RULES_A[0], text="Keep a warm, friendly tone."), RULES_A[1]]
    second = store.save_edit(sid, 2, "bob", rules=rules)
    assert second["revision"] == 2 and "+r1 [style] Keep a warm, friendly tone." in second["diff"]

    history = store.revisions(sid)
    assert [(r["revision"], r["author"], r["action"], r["applied"]) for r in history] == [
        (0, "m", "generated", True),
        (1, "ann", "edit", True),
        (2, "bob", "edit", True),
    ]
    assert history[0]["diff"] == "" and history[1]["diff"] == saved["diff"]
    assert history[0]["role"] == ROLE_A and history[0]["response"] == "Plants need light."

    back = store.revert(sid, 0, "carl", base_version=3)
    reverted = store.revisions(sid)[3]
    assert back == {"version": 4, "revision": 3, "diff": reverted["diff"]}
    assert reverted["action"] == "revert" and "+++ Role, revision 3" in back["diff"]
    assert "-You are a strict tutor.\n+You are a patient tutor." in back["diff"]
    restored = store.review_sample(sid)
    for part in ("role", "rules", "system_prompt", "messages", "response"):
        assert restored[part] == generated[part]
    assert restored["edited_role"] is None and restored["edited_rules"] is None
    actions = store._rows(
        "SELECT action, reviewer FROM review_actions WHERE sample_id = ? ORDER BY id", [sid]
    )
    assert [(a["action"], a["reviewer"]) for a in actions] == [
        ("edit", "ann"),
        ("edit", "bob"),
        ("revert", "carl"),
    ]


def test_an_edit_that_changes_nothing_writes_nothing(store, one):
    sid, _ = one
    assert store.save_edit(sid, 1, "ann", role=ROLE_A) == {"version": 1, "revision": None, "diff": ""}
    assert store.revisions(sid) == []


def test_a_verifiable_rule_whose_text_is_edited_becomes_free_form(store, one):
    sid, _ = one
    rules = [
        RULES_A[0],
        dict(RULES_A[1], text="Use at most one comma."),
        {"text": "Be brief.", "category": "length"},
    ]
    store.save_edit(sid, 1, "ann", rules=rules)
    stored = store.review_sample(sid)["rules"]
    assert [(r["id"], r["kind"]) for r in stored] == [("r1", None), ("r2", None), ("r3", None)]
    assert store.queue_count(QueueFilter(rule_kind=NO_COMMA)) == 1  # only the untouched sibling
    assert store.queue_count(QueueFilter(category="length")) == 1


RULE = {"text": "Be kind.", "category": "style"}
TURN = {"role": "user", "content": "Hi"}
INVALID_EDITS = [
    ({"role": "   "}, "role is blank"),
    ({"rules": []}, "at least one rule"),
    ({"rules": [dict(RULE, text="")]}, r"text of rules\[0\] is blank"),
    ({"rules": [dict(RULE, category="mood")]}, r"rules\[0\].category is 'mood'"),
    ({"rules": [dict(RULE, kind="no:such")]}, "unknown rule kind 'no:such'"),
    ({"rules": [dict(RULE, id="r1"), dict(RULE, id="r1")]}, r"rules\[1\] repeats the id 'r1'"),
    ({"messages": "hello"}, "messages must be a non-empty list"),
    ({"messages": [{"role": "user"}]}, r"messages\[0\] must be an object"),
    ({"messages": [dict(TURN, role="system")]}, r"messages\[0\].role is 'system'"),
    ({"messages": [dict(TURN, content=" ")]}, r"messages\[0\].content is blank"),
    ({"messages": [TURN, dict(TURN, role="assistant")]}, "end with a user"),
    ({"response": ""}, "response is blank"),
]


@pytest.mark.parametrize("edit, message", INVALID_EDITS)
def test_an_invalid_edit_names_the_field_and_changes_nothing(store, one, edit, message):
    sid, _ = one
    with pytest.raises(RnrError, match=message):
        store.save_edit(sid, 1, "ann", **edit)
    assert store.review_sample(sid)["version"] == 1 and store.revisions(sid) == []


def test_edits_need_an_author_and_a_known_sample(store, one):
    sid, _ = one
    with pytest.raises(ReviewError, match="author name is blank"):
        store.save_edit(sid, 1, " ", response="x")
    with pytest.raises(NotFound, match="No sample with id 999"):
        store.save_edit(999, 1, "ann", response="x")
    with pytest.raises(NotFound, match="no revision 7"):
        store.revert(sid, 7, "ann", base_version=1)


def test_the_second_of_two_edits_on_one_version_is_kept_as_a_draft(store, one):
    sid, _ = one
    ann, bob = store.for_thread(), store.for_thread()
    base = ann.review_sample(sid)["version"]
    assert bob.review_sample(sid)["version"] == base
    ann.save_edit(sid, base, "ann", response="Ann's answer.")
    with pytest.raises(VersionConflict) as info:
        bob.save_edit(sid, base, "bob", response="Bob's answer.", role="You are Bob's tutor.")
    conflict = info.value
    assert "Another reviewer saved sample" in str(conflict) and "revision 2" in str(conflict)
    assert conflict.draft_revision == 2 and conflict.current["response"] == "Ann's answer."
    history = store.revisions(sid)
    assert [(r["author"], r["action"], r["applied"], r["response"]) for r in history[1:]] == [
        ("ann", "edit", True, "Ann's answer."),
        ("bob", "conflict", False, "Bob's answer."),
    ]
    assert history[2]["role"] == "You are Bob's tutor." and "+Bob's answer." in history[2]["diff"]
    # Bob applies his draft on top of the version he now sees.
    bob.revert(sid, 2, "bob", base_version=conflict.current["version"])
    assert store.review_sample(sid)["response"] == "Bob's answer."
    ann.close(), bob.close()


def test_a_write_conflict_is_retried_once(store, one, monkeypatch):
    sid, _ = one
    other = store.for_thread()
    real, calls = type(store)._apply_edit, []

    def meet_a_conflict_first(self, *args):
        calls.append(1)
        if len(calls) > 1:
            return real(self, *args)
        other.con.begin()
        other.con.execute("UPDATE samples SET updated_at = current_timestamp WHERE id = ?", [sid])
        try:
            return real(self, *args)  # DuckDB refuses: the other transaction holds the row
        finally:
            other.con.commit()

    monkeypatch.setattr(type(store), "_apply_edit", meet_a_conflict_first)
    assert store.save_edit(sid, 1, "ann", response="Saved on the retry.")["version"] == 2
    assert len(calls) == 2 and store.review_sample(sid)["response"] == "Saved on the retry."
    other.close()


def test_a_lasting_write_conflict_keeps_both_edits(store, one):
    sid, _ = one
    ann, bob = store.for_thread(), store.for_thread()
    bob.con.begin()
    bob.con.execute("UPDATE samples SET response = 'Bob, still saving.' WHERE id = ?", [sid])
    with pytest.raises(VersionConflict) as info:
        ann.save_edit(sid, 1, "ann", response="Ann's answer.")
    bob.con.commit()
    assert store.review_sample(sid)["response"] == "Bob, still saving."
    draft = [r for r in store.revisions(sid) if r["revision"] == info.value.draft_revision][0]
    assert draft["response"] == "Ann's answer." and draft["applied"] is False
    with pytest.raises(VersionConflict, match="nothing was changed"):
        bob.con.begin()
        bob.con.execute("UPDATE samples SET status = 'rejected' WHERE id = ?", [sid])
        try:
            ann.review([sid], "accept", "ann")
        finally:
            bob.con.rollback()
    assert store.review_sample(sid)["status"] == "pending"
    ann.close(), bob.close()


def test_review_actions_set_status_reviewer_reason_and_log(store, world):
    s1, s4 = world["s1"], world["s4"]
    assert store.review([s1, s4, s1], "reject", "carl", reason="duplicate", note=" same as 3 ") == 2
    row = store.review_sample(s1)
    assert (row["status"], row["reviewer"], row["reject_reason"], row["review_note"]) == (
        "rejected",
        "carl",
        "duplicate",
        "same as 3",
    )
    assert row["reviewed_at"] is not None
    assert store.review([s1], "reset", "dana") == 1
    row = store.review_sample(s1)
    assert (row["status"], row["reviewer"], row["reject_reason"], row["reviewed_at"]) == (
        "pending",
        None,
        None,
        None,
    )
    log = store._rows(
        "SELECT action, reviewer, reason FROM review_actions WHERE sample_id = ? ORDER BY id", [s1]
    )
    assert [tuple(r.values()) for r in log] == [("reject", "carl", "duplicate"), ("reset", "dana", None)]


@pytest.mark.parametrize(
    "action, reviewer, reason, message",
    [
        ("reject", "ann", None, "A rejection needs a reason"),
        ("reject", "ann", "boring", "A rejection needs a reason.*'boring'"),
        ("accept", "ann", "unsafe", "Only a rejection takes a reason"),
        ("approve", "ann", None, "Unknown review action 'approve'"),
        ("accept", "  ", None, "reviewer name is blank"),
    ],
)
def test_invalid_review_actions_are_refused_and_change_nothing(
    store, world, action, reviewer, reason, message
):
    before = store.queue(QueueFilter())
    with pytest.raises(ReviewError, match=message):
        store.review([world["s1"]], action, reviewer, reason=reason)
    with pytest.raises(ReviewError, match=message):
        store.review_filter(QueueFilter(), action, reviewer, reason=reason)
    assert store.queue(QueueFilter()) == before


def test_unknown_ids_change_nothing(store, world):
    before = store.queue(QueueFilter())
    actions = store._scalar("SELECT count(*) FROM review_actions")
    with pytest.raises(NotFound, match="No sample with id 999; nothing was changed"):
        store.review([world["s1"], 999], "accept", "ann")
    assert store.queue(QueueFilter()) == before
    assert store._scalar("SELECT count(*) FROM review_actions") == actions


def test_bulk_review_applies_to_exactly_the_filtered_samples(store, world):
    pending_beta = QueueFilter(status="pending", dataset="beta")
    assert store.queue_count(pending_beta) == 2
    assert store.review_filter(pending_beta, "accept", "ann", note="batch") == 2
    assert store.queue_count(pending_beta) == 0
    assert [r["id"] for r in store.queue(QueueFilter(status="accepted"))] == [
        world["s2"],
        world["s4"],
        world["s5"],
    ]
    assert store.review_filter(QueueFilter(run_id="run-a"), "reject", "bob", reason="low_quality") == 2
    assert {r["reject_reason"] for r in store.queue(QueueFilter(run_id="run-a"))} == {"low_quality"}
    assert store.review_filter(QueueFilter(dataset="nope"), "accept", "ann") == 0
    log = store._rows("SELECT action, count(*) AS n FROM review_actions GROUP BY action ORDER BY action")
    assert {r["action"]: r["n"] for r in log} == {"accept": 3, "edit": 1, "reject": 3}


def test_reject_reasons_are_counted_per_template(store, world):
    store.review([world["s1"], world["s4"]], "reject", "ann", reason="rule_broken")
    templates = {"template": "response_guidance.v1", "system_prompt_template": "system_prompt.v2"}
    assert store.reject_reasons_by_template() == [
        {**templates, "reason": "rule_broken", "count": 2},
        {**templates, "reason": "unsafe", "count": 1},
    ]
    assert set(REJECT_REASONS) == {"rule_broken", "wrong_role", "unsafe", "low_quality", "duplicate", "other"}


def test_stale_verdicts_do_not_decide():
    at = [1, 2, 3]
    stale_fail = {"judge": "checker", "verdict": "fail", "created_at": at[1], "stale": True}
    fresh_pass = {"judge": "llm:j", "verdict": "pass", "created_at": at[2], "stale": False}
    assert effective_verdict([stale_fail, fresh_pass]) == "pass"
    assert effective_verdict([stale_fail]) is None


def judge_reply(messages, params):
    return json.dumps({r: {"verdict": "pass", "rationale": "ok"} for r in params.json_schema["required"]})


def test_an_edit_makes_verdicts_stale_and_rejudging_replaces_them(store, tmp_path, scripted):
    ingest_questions(store, tmp_path, 3)
    scripted(lambda messages, params: GOOD_SP if params.json_schema else "Fine reply")
    config = one_group(rules=4, verifiable_share=0.5, rejections=0, seed=3)
    run = asyncio.run(execute_run(store, start_run(store, config)))
    judge = scripted(judge_reply, spec="judge-model")
    asyncio.run(judge_samples(store, run_id=run["id"], judge="judge-model"))
    sid, *others = [s["id"] for s in store.list_samples(run_id=run["id"])]
    judged = {(v["rule_id"], v["judge"]) for v in store.verdicts([sid])}
    assert len(judged) == 4 and not any(v["stale"] for v in store.verdicts([sid]))

    store.save_edit(sid, 1, "ann", response="Changed reply, with a comma")
    assert all(v["stale"] for v in store.verdicts([sid]))
    assert not any(v["stale"] for v in store.verdicts(others))
    assert with_outcomes(store.attach_verdicts([store.get_sample(sid)]))[0]["outcome"] == "unjudged"

    asked = len(judge.requests)
    summary = asyncio.run(judge_samples(store, judge="judge-model", sample_ids=[sid]))
    assert summary["samples"] == 1 and summary["checker_verdicts"] == 2 and summary["llm_samples"] == 1
    assert (
        len(judge.requests) == asked + 1
        and "Changed reply, with a comma" in judge.requests[-1][0][0]["content"]
    )
    fresh = store.verdicts([sid])
    assert {(v["rule_id"], v["judge"]) for v in fresh} == judged and not any(v["stale"] for v in fresh)
    with pytest.raises(NotFound, match="No sample with id 999"):
        asyncio.run(judge_samples(store, sample_ids=[999]))


def test_migration_5_indexes_a_store_made_before_it(tmp_path, monkeypatch):
    from rnr_core.store import db, migrations

    path = str(tmp_path / "old.duckdb")
    # A store from before migration 5, with 11's column: today's create_run records who started a run.
    monkeypatch.setattr(db, "MIGRATIONS", [m for m in migrations.MIGRATIONS if m[0] <= 4 or m[0] == 11])
    with Store(path) as old:
        ingest_questions(old, tmp_path, 1, "alpha")
        old.create_run("run-a", old.dataset_id("alpha"), "m", {})
        old.con.execute(
            "INSERT INTO system_prompts (id, run_id, group_idx, role, rules, text, model, template) "
            "VALUES (1, 'run-a', 0, ?, ?, 'text', 'm', 't')",
            [ROLE_A, json.dumps(RULES_A)],
        )
        for i in (1, 2):
            old.con.execute(
                "INSERT INTO samples (id, run_id, item_key, system_prompt_id, kind, messages, response, "
                "model, template, params, seed) "
                "VALUES (?, 'run-a', ?, 1, 'plain', '[]', 'r', 'm', 't', '{}', 1)",
                [i, f"k{i}"],
            )
        old.con.execute(
            "INSERT INTO verdicts (sample_id, rule_id, judge, verdict) VALUES (2, 'r2', 'checker', 'fail')"
        )
    monkeypatch.undo()
    with Store(path) as store:
        assert store.schema_version() == max(m[0] for m in migrations.MIGRATIONS)  # 5 and every later one
        assert [r["id"] for r in store.queue(QueueFilter(rule_kind=NO_COMMA))] == [1, 2]
        assert [r["id"] for r in store.queue(QueueFilter(verdict="any_failed"))] == [2]


def test_the_benchmark_store_filters_as_python_computes(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    import app_store

    app_store.seed(str(tmp_path / "bench.duckdb"), 2000, 5)
    store = Store(str(tmp_path / "bench.duckdb"))
    samples = store.samples_with_verdicts()
    by_id = {s["id"]: s for s in samples}

    def expect(test) -> int:
        return sum(1 for s in samples if test(s))

    def current(s) -> list[dict]:
        return [v for v in s["verdicts"] if not v["stale"]]

    def disagree(s) -> bool:
        seen = {}
        for v in current(s):
            if v["verdict"] in ("pass", "fail") and (
                v["judge"] == "checker" or v["judge"].startswith("llm:")
            ):
                seen.setdefault(v["rule_id"], {}).setdefault(v["judge"] == "checker", set()).add(v["verdict"])
        return any(len(sides) == 2 and sides[True] != sides[False] for sides in seen.values())

    checks = {
        QueueFilter(verdict="any_failed"): lambda s: sample_outcome(rule_outcomes(s)) == "fail",
        QueueFilter(verdict="judge_unsure"): lambda s: any(
            v["judge"].startswith("llm:") and v["verdict"] == "unknown" for v in current(s)
        ),
        QueueFilter(verdict="disagree"): disagree,
        QueueFilter(rule_kind="free-form"): lambda s: any(not r["kind"] for r in s["rules"]),
        QueueFilter(rule_kind=TITLE): lambda s: any(r["kind"] == TITLE for r in s["rules"]),
        QueueFilter(category="safety"): lambda s: any(r["category"] == "safety" for r in s["rules"]),
    }
    for flt, test in checks.items():
        count = store.queue_count(flt)
        assert count == expect(test) and count > 0, flt
        assert all(test(by_id[r["id"]]) for r in store.queue(flt, limit=50))
    store.close()


def test_diff_text_is_a_unified_diff():
    assert (
        diff_text("a\nb", "a\nc", "Response")
        == "--- Response (before)\n+++ Response (after)\n@@ -1,2 +1,2 @@\n a\n-b\n+c"
    )
    assert diff_text("same", "same") == ""


def test_duckdb_conflicts_are_what_the_retry_expects(tmp_path):
    """The retry matches DuckDB's own message; this pins it so an upgrade that rewords it fails here."""
    con = duckdb.connect(str(tmp_path / "c.duckdb"))
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
    con.execute("INSERT INTO t VALUES (1, 0)")
    a, b = con.cursor(), con.cursor()
    a.begin(), b.begin()
    a.execute("UPDATE t SET v = 1 WHERE id = 1")
    with pytest.raises(duckdb.TransactionException, match="Conflict on update"):
        b.execute("UPDATE t SET v = 2 WHERE id = 1")
    b.rollback(), a.commit()


@pytest.mark.parametrize(
    "n, noun, many, shown",
    [
        (0, "sample", None, "0 samples"),
        (1, "sample", None, "1 sample"),
        (2_000, "sample", None, "2,000 samples"),
    ]
    + [(1, "human label", None, "1 human label"), (3, "match", "matches", "3 matches")],
)
def test_counts_name_their_noun_in_the_right_number(n, noun, many, shown):
    assert plural(n, noun, many) == shown
