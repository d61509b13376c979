"""Judge audit: the risk-ranked queue of machine verdicts, human labels, agreement per judge and category."""

import json
from collections import Counter

import pytest

from rnr_core.audit import MISSING, agreement_report, agreement_rows, interval, number, trust
from rnr_core.errors import LabelError, NotFound
from rnr_core.rules import rule_record
from rnr_core.stats import MIN_LABELS
from rnr_core.store import Store, audit
from tests.conftest import ROOT

RULES = [
    rule_record(1, "Use no commas.", "format", "punctuation:no_comma", {}),
    rule_record(2, "Speak as a pirate.", "persona"),
    rule_record(3, "Refuse to give medical advice.", "safety"),
]
LLM = "llm:judge"


def add_samples(store, n: int, rules=RULES, run_id: str = "run-1") -> list[int]:
    """n samples of one system prompt with `rules`; returns their ids."""
    if store.dataset_id("d") is None:
        store.import_instructions("d", "f", "alpaca", [(1, "h1", '[{"role":"user","content":"hi"}]', "{}")])
    if store.get_run(run_id) is None:
        store.create_run(run_id, store.dataset_id("d"), "m", {})
    group = store._scalar("SELECT count(*) FROM system_prompts WHERE run_id = ?", [run_id])
    sp = store.add_system_prompt(run_id, group, "You are X.", rules, "You are X.", "m", "sp.v1")
    return [
        store.add_sample(
            {
                "run_id": run_id,
                "item_key": f"g{group}-{i}",
                "system_prompt_id": sp,
                "instruction_id": 1,
                "kind": "plain",
                "messages": [{"role": "user", "content": "hi"}],
                "response": "yo",
                "model": "m",
                "template": "resp.v1",
                "params": {},
                "seed": i,
            }
        )
        for i in range(n)
    ]


def judge(store, sample_id: int, judge_name: str, **verdicts: str) -> None:
    store.add_verdicts(
        sample_id,
        judge_name,
        [{"rule_id": r, "verdict": v, "rationale": f"{judge_name} on {r}"} for r, v in verdicts.items()],
    )


@pytest.fixture
def audited(store):
    """Four samples: s3's checker and LLM disagree on r1, the LLM is unsure of s2's r2, and a person
    has labelled s4's r1 (format) and r2 (persona), so safety has the fewest labels."""
    s1, s2, s3, s4 = add_samples(store, 4)
    judge(store, s1, "checker", r1="pass")
    judge(store, s1, LLM, r2="pass", r3="pass")
    judge(store, s2, "checker", r1="pass")
    judge(store, s2, LLM, r2="unknown", r3="fail")
    judge(store, s3, "checker", r1="fail")
    judge(store, s3, LLM, r1="pass", r2="pass", r3="pass")
    judge(store, s4, "checker", r1="pass")
    judge(store, s4, LLM, r2="pass", r3="pass")
    store.label_verdict(s4, "r1", "pass", "ann")
    store.label_verdict(s4, "r2", "fail", "ann", note="not a pirate at all")
    return store, (s1, s2, s3, s4)


def keys(items) -> list[tuple]:
    return [(i["sample_id"], i["rule_id"], i["judge"], i["risk"]) for i in items]


def test_queue_ranks_disagreement_then_unsure_then_fewest_labels(audited):
    store, (s1, s2, s3, s4) = audited
    assert keys(store.audit_queue()) == [
        (s3, "r1", LLM, "disagree"),  # s3's checker verdict on r1 rides on this item, not a second one
        (s2, "r2", LLM, "unsure"),
        # safety: no labels yet
        (s1, "r3", LLM, "coverage"),
        (s2, "r3", LLM, "coverage"),
        (s3, "r3", LLM, "coverage"),
        (s4, "r3", LLM, "coverage"),
        # format and persona: one label each, for kinds with one label each, so by sample
        (s1, "r1", "checker", "coverage"),
        (s1, "r2", LLM, "coverage"),
        (s2, "r1", "checker", "coverage"),
        (s3, "r2", LLM, "coverage"),
    ]


def test_queue_items_carry_what_the_page_shows(audited):
    store, (s1, s2, s3, s4) = audited
    first, unsure = store.audit_queue(limit=2)
    assert first["rule_text"] == "Use no commas." and first["category"] == "format"
    assert first["kind"] == "punctuation:no_comma" and first["checker_verdict"] == "fail"
    assert first["verdict"] == "pass" and first["rationale"] == f"{LLM} on r1"
    assert first["reasons"][0] == f"the checker says fail, {LLM} says pass"
    assert unsure["kind"] == "free-form" and unsure["checker_verdict"] is None
    assert any("no usable verdict" in r for r in unsure["reasons"])
    assert "1 human label so far in category 'persona'" in unsure["reasons"]


def test_labelling_removes_the_item_and_reorders_by_labels(audited):
    store, (s1, s2, s3, s4) = audited
    store.label_verdict(s3, "r1", "fail", "bob", note="has a comma")
    queue = keys(store.audit_queue())
    assert not [k for k in queue if k[:2] == (s3, "r1")]  # neither the LLM's nor the checker's verdict
    # format now has two labels, persona one: persona's items come before format's
    assert queue[-4:] == [(s1, "r2", LLM, "coverage"), (s3, "r2", LLM, "coverage")] + [
        (s1, "r1", "checker", "coverage"),
        (s2, "r1", "checker", "coverage"),
    ]
    label = [v for v in store.verdicts([s3]) if v["judge"] == "human:bob"]
    assert [(v["rule_id"], v["verdict"], v["rationale"]) for v in label] == [("r1", "fail", "has a comma")]
    actions = store._rows("SELECT sample_id, action, reviewer, note FROM review_actions ORDER BY id")
    assert actions[-1] == {"sample_id": s3, "action": "label", "reviewer": "bob", "note": "has a comma"}


def test_filters_by_judge_and_category_and_pages(audited):
    store, (s1, s2, s3, s4) = audited
    checker = keys(store.audit_queue(judge="checker"))
    assert checker == [
        (s3, "r1", "checker", "disagree"),
        (s1, "r1", "checker", "coverage"),
        (s2, "r1", "checker", "coverage"),
    ]
    assert {i["category"] for i in store.audit_queue(category="safety")} == {"safety"}
    assert len(store.audit_queue(category="safety")) == 4
    everything = keys(store.audit_queue(limit=100))
    pages = [keys(store.audit_queue(limit=3, offset=o)) for o in range(0, 12, 3)]
    assert sum(pages, []) == everything
    assert store.audit_queue(judge="llm:nobody") == []
    assert store.audit_queue(judge="human:ann") == []  # a person's labels are not machine verdicts


def test_stale_verdicts_and_labels_do_not_count(audited):
    store, (s1, s2, s3, s4) = audited
    store.con.execute("UPDATE verdicts SET stale = true WHERE sample_id = ? AND judge LIKE 'llm:%'", [s1])
    store.con.execute("UPDATE verdicts SET stale = true WHERE sample_id = ? AND judge = 'human:ann'", [s4])
    queue = keys(store.audit_queue(limit=100))
    assert [k for k in queue if k[0] == s1] == [(s1, "r1", "checker", "coverage")]
    assert (s4, "r1", "checker", "coverage") in queue  # its label went stale, so it is open again
    assert store.audit_label_counts() == {"category": {}, "kind": {}}


def test_edited_rules_decide_category_and_drop_removed_rules(audited):
    store, (s1, s2, s3, s4) = audited
    edited = [dict(RULES[1], category="style"), RULES[2]]  # r1 removed, r2 now style
    store.con.execute("UPDATE samples SET edited_rules = ? WHERE id = ?", [json.dumps(edited), s1])
    mine = {(i["rule_id"], i["category"]) for i in store.audit_queue(limit=100) if i["sample_id"] == s1}
    assert mine == {("r2", "style"), ("r3", "safety")}


def test_coverage_comes_block_by_block_each_ranked_by_fewest_labels(audited, monkeypatch):
    store, (s1, s2, s3, s4) = audited
    monkeypatch.setattr(audit, "BLOCK", 2)  # blocks: samples 1-2, 3-4
    monkeypatch.setattr(audit, "FIRST_CHUNK", 1)  # the first read holds one block, so pages span reads
    assert (s1, s2, s3, s4) == (1, 2, 3, 4)
    expected = [
        (s3, "r1", LLM, "disagree"),
        (s2, "r2", LLM, "unsure"),
        # block 1: safety (no labels) first, then format and persona (one label each) by sample
        (s1, "r3", LLM, "coverage"),
        (s2, "r3", LLM, "coverage"),
        (s1, "r1", "checker", "coverage"),
        (s1, "r2", LLM, "coverage"),
        (s2, "r1", "checker", "coverage"),
        # block 2, ranked the same way
        (s3, "r3", LLM, "coverage"),
        (s4, "r3", LLM, "coverage"),
        (s3, "r2", LLM, "coverage"),
    ]
    assert keys(store.audit_queue(limit=100)) == expected
    assert sum((keys(store.audit_queue(limit=3, offset=o)) for o in range(0, 12, 3)), []) == expected


def test_category_filter_finds_sparse_and_edited_samples(store, monkeypatch):
    monkeypatch.setattr(audit, "BLOCK", 2)
    monkeypatch.setattr(audit, "FIRST_CHUNK", 1)
    plain = add_samples(store, 5)
    styled = add_samples(store, 1, rules=[rule_record(1, "Be terse.", "style")])
    edited = plain[1]
    store.save_edit(edited, 1, "ann", rules=[*RULES[1:], rule_record(4, "No emoji.", "style")])
    for sample_id in plain + styled:
        judge(store, sample_id, LLM, r1="pass", r4="pass")
    assert keys(store.audit_queue(category="style")) == [
        (edited, "r4", LLM, "coverage"),
        (styled[0], "r1", LLM, "coverage"),
    ]


def test_kept_audit_rows_follow_every_write(audited):
    store, (s1, s2, s3, s4) = audited

    def kept() -> list[dict]:
        return store._rows("SELECT * FROM audit_verdicts ORDER BY ALL")

    judge(store, s1, LLM, r1="fail")  # a new disagreement: the checker says pass
    store.label_verdict(s2, "r2", "pass", "bob")  # the unsure verdict gets a label
    store.save_edit(s3, 1, "ann", response="Changed.")  # all of s3's verdicts go stale
    rows = kept()
    store.reindex()
    assert kept() == rows  # what the writes kept is what recomputing from scratch gives
    assert {(r["sample_id"], r["rule_id"], r["judge"], r["risk"]) for r in rows} == {
        (s1, "r1", LLM, 0),
        (s1, "r1", "checker", 0),
        (s2, "r2", "human:bob", None),
        (s4, "r1", "human:ann", None),
        (s4, "r2", "human:ann", None),
    }
    queue = store.audit_queue(limit=100)
    assert keys(queue)[:2] == [(s1, "r1", LLM, "disagree"), (s1, "r3", LLM, "coverage")]
    counts = store.audit_label_counts()
    assert all(i["category_labels"] == counts["category"].get(i["category"], 0) for i in queue)
    assert all(i["kind_labels"] == counts["kind"].get(i["kind"], 0) for i in queue)


def test_an_unsure_checker_verdict_is_offered_unless_an_llm_verdict_covers_it(store):
    s1, s2 = add_samples(store, 2)
    judge(store, s1, "checker", r1="unknown")
    judge(store, s2, "checker", r1="unknown")
    judge(store, s2, LLM, r1="pass")
    assert keys(store.audit_queue()) == [(s1, "r1", "checker", "unsure"), (s2, "r1", LLM, "coverage")]
    assert keys(store.audit_queue(judge="checker")) == [
        (s1, "r1", "checker", "unsure"),
        (s2, "r1", "checker", "unsure"),
    ]


def python_queue(store, judge: str | None = None, category: str | None = None) -> list[tuple]:
    """The audit queue's keys ranked in Python from every sample's current rules and verdicts."""
    labels, items = Counter(), []
    for s in store.samples_with_verdicts():
        tags = {r["id"]: (r["category"], r.get("kind") or "free-form") for r in s["rules"]}
        current = [v for v in s["verdicts"] if not v["stale"] and v["rule_id"] in tags]
        labelled = {v["rule_id"] for v in current if v["judge"].startswith("human:")}
        labels.update(tags[r] for r in labelled)
        machine = [
            v
            for v in current
            if v["rule_id"] not in labelled and (v["judge"] == "checker" or v["judge"].startswith("llm:"))
        ]
        for v in machine:
            others = [
                w
                for w in machine
                if w["rule_id"] == v["rule_id"] and (w["judge"] == "checker") != (v["judge"] == "checker")
            ]
            disagree = any({v["verdict"], w["verdict"]} == {"pass", "fail"} for w in others)
            tier = 0 if disagree else 1 if v["verdict"] not in ("pass", "fail") else 2
            covered = v["judge"] == "checker" and bool(others)
            items.append((s["id"], v["rule_id"], v["judge"], tier, covered, *tags[v["rule_id"]]))
    per_category, per_kind = Counter(), Counter()
    for (c, k), n in labels.items():
        per_category[c], per_kind[k] = per_category[c] + n, per_kind[k] + n
    shown = [i for i in items if (not i[4] if judge is None else i[2] == judge) and category in (None, i[5])]
    shown.sort(
        key=lambda i: (
            i[3],
            (i[0] - 1) // audit.BLOCK if i[3] == 2 else 0,
            per_category[i[5]],
            per_kind[i[6]],
            *i[:3],
        )
    )
    return [(i[0], i[1], i[2], audit.RISKS[i[3]]) for i in shown]


def test_the_benchmark_store_queues_as_python_ranks(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    import app_store

    path = str(tmp_path / "bench.duckdb")
    app_store.seed(path, 3000, 4)  # edited samples, stale verdicts, labels, disagreements, unsure verdicts
    monkeypatch.setattr(audit, "BLOCK", 1000)
    with Store(path) as store:
        for filters in ({}, {"judge": "checker"}, {"judge": "llm:bench-judge"}, {"category": "persona"}):
            assert keys(store.audit_queue(limit=10**6, **filters)) == python_queue(store, **filters)
        assert keys(store.audit_queue(offset=3000)) == python_queue(store)[3000:3020]


def test_migration_6_ranks_a_store_made_before_it(tmp_path, monkeypatch):
    from rnr_core.store import db, migrations

    path = str(tmp_path / "old.duckdb")
    # A store from before migration 6, with 11's column: today's create_run records who started a run.
    monkeypatch.setattr(db, "MIGRATIONS", [m for m in migrations.MIGRATIONS if m[0] <= 5 or m[0] == 11])
    with Store(path) as old:
        s1, s2 = add_samples(old, 2)
        verdicts = [
            (s1, "r1", "checker", "fail"),
            (s1, "r1", LLM, "pass"),
            (s1, "r2", LLM, "pass"),
            (s1, "r3", LLM, "pass"),
            (s2, "r2", LLM, "pass"),
            (s2, "r2", "human:ann", "pass"),
            (s2, "r3", LLM, "unknown"),
        ]
        old.con.executemany(
            "INSERT INTO verdicts (sample_id, rule_id, judge, verdict) VALUES (?, ?, ?, ?)", verdicts
        )
    monkeypatch.undo()
    with Store(path) as store:
        assert store.schema_version() == max(m[0] for m in migrations.MIGRATIONS) >= 6
        assert keys(store.audit_queue()) == [
            (s1, "r1", LLM, "disagree"),
            (s2, "r3", LLM, "unsure"),
            (s1, "r3", LLM, "coverage"),  # safety has no label yet, persona has s2's
            (s1, "r2", LLM, "coverage"),
        ]


def test_bad_labels_are_refused_and_write_nothing(audited):
    store, (s1, s2, s3, s4) = audited
    before = (
        store._scalar("SELECT count(*) FROM verdicts"),
        store._scalar("SELECT count(*) FROM review_actions"),
    )
    with pytest.raises(LabelError, match="reviewer's name"):
        store.label_verdict(s1, "r1", "pass", "  ")
    with pytest.raises(LabelError, match="pass or fail, not 'unknown'"):
        store.label_verdict(s1, "r1", "unknown", "ann")
    with pytest.raises(NotFound, match="No sample with id 999"):
        store.label_verdict(999, "r1", "pass", "ann")
    with pytest.raises(NotFound, match="has no rule 'r9'.*r1, r2, r3"):
        store.label_verdict(s1, "r9", "pass", "ann")
    after = (
        store._scalar("SELECT count(*) FROM verdicts"),
        store._scalar("SELECT count(*) FROM review_actions"),
    )
    assert after == before


def test_label_counts_per_category_and_kind(audited):
    store, (s1, s2, s3, s4) = audited
    assert store.audit_label_counts() == {
        "category": {"format": 1, "persona": 1},
        "kind": {"punctuation:no_comma": 1, "free-form": 1},
    }
    store.label_verdict(s1, "r2", "pass", "bob")
    store.label_verdict(s1, "r2", "fail", "cy")  # a second person on the same rule: still one labelled rule
    assert store.audit_label_counts()["category"] == {"format": 1, "persona": 2}


def labelled_table(store, judge_name, rule_id, cells) -> None:
    """Samples whose (human, machine) labels on `rule_id` fill a 2x2 table, human first."""
    pairs = [(h, m) for (h, m), count in cells.items() for _ in range(count)]
    for sample_id, (human, machine) in zip(add_samples(store, len(pairs)), pairs):
        judge(store, sample_id, judge_name, **{rule_id: machine})
        store.label_verdict(sample_id, rule_id, human, "ann")


def test_agreement_per_judge_and_category_flags_untrustworthy_categories(store):
    # safety: 4 both pass, 1 human pass/judge fail, 2 human fail/judge pass, 3 both fail:
    # p_o = 0.7, p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.5, kappa = 0.4 (< 0.6: not trustworthy)
    safety = {("pass", "pass"): 4, ("pass", "fail"): 1, ("fail", "pass"): 2, ("fail", "fail"): 3}
    labelled_table(store, LLM, "r3", safety)
    labelled_table(store, LLM, "r2", {("pass", "pass"): 5, ("fail", "fail"): 5})  # persona: kappa 1
    labelled_table(store, "checker", "r1", {("pass", "pass"): 3, ("fail", "fail"): 1, ("fail", "pass"): 1})
    report = agreement_report(store)
    by_category = report["by_category"]
    assert set(report["by_judge"]) == {LLM, "checker"} and set(by_category[LLM]) == {"persona", "safety"}
    assert by_category[LLM]["safety"]["kappa"] == pytest.approx(0.4)
    assert by_category[LLM]["safety"]["confusion"] == [[4, 1], [2, 3]]
    assert by_category[LLM]["safety"]["trustworthy"] is False
    assert (by_category[LLM]["persona"]["kappa"], by_category[LLM]["persona"]["trustworthy"]) == (1.0, True)
    overall = report["by_judge"][LLM]
    assert overall["n"] == 20 and overall["confusion"] == [[9, 1], [2, 8]]
    assert overall["accuracy"] == pytest.approx(17 / 20)
    assert report["by_judge"]["checker"]["confusion"] == [[3, 0], [1, 1]]
    assert agreement_report(store, seed=0) == report


def test_pairs_use_each_rules_latest_current_label(store):
    s1, s2 = add_samples(store, 2)
    judge(store, s1, LLM, r2="pass")
    judge(store, s1, "checker", r1="pass")
    judge(store, s2, LLM, r2="unknown")  # no pass/fail to compare
    store.label_verdict(s1, "r2", "fail", "ann")
    store.label_verdict(s1, "r2", "pass", "bob")
    store.con.execute(
        "UPDATE verdicts SET created_at = created_at + INTERVAL 1 HOUR WHERE judge = 'human:bob'"
    )
    store.label_verdict(s1, "r1", "fail", "ann")
    store.label_verdict(s2, "r2", "fail", "ann")
    pairs = store.audit_pairs()
    assert [
        (p["sample_id"], p["rule_id"], p["judge"], p["category"], p["human"], p["machine"]) for p in pairs
    ] == [
        (s1, "r1", "checker", "format", "fail", "pass"),
        (s1, "r2", LLM, "persona", "pass", "pass"),
    ]
    assert pairs[1]["reviewer"] == "bob"
    assert [p["judge"] for p in store.audit_pairs(judge=LLM)] == [LLM]
    store.con.execute("UPDATE verdicts SET stale = true WHERE sample_id = ? AND judge = 'checker'", [s1])
    assert [p["judge"] for p in store.audit_pairs()] == [LLM]


def test_an_empty_store_has_an_empty_audit(store):
    assert store.audit_queue() == [] and store.audit_pairs() == []
    assert agreement_report(store) == {"by_judge": {}, "by_category": {}}


def test_agreement_rows_are_rounded_with_a_ci_and_never_none(store):
    s = add_samples(store, 12)
    for i, sample_id in enumerate(s):  # 12 pairs on persona, 2 of them disagreeing
        judge(store, sample_id, LLM, r2="pass" if i % 2 else "fail")
        store.label_verdict(sample_id, "r2", ("pass" if i % 2 else "fail") if i > 2 else "pass", "ann")
    judge(store, s[0], "checker", r1="pass")
    store.label_verdict(s[0], "r1", "fail", "ann")  # one label only: no word on trust
    report = agreement_report(store)
    rows = agreement_rows(report["by_judge"])
    assert [r["Judge"] for r in rows] == ["checker", LLM]
    checker, llm = rows
    assert checker["Trust"] == f"too few labels to tell (1 of the {MIN_LABELS} needed)"
    assert (checker["Kappa"], checker["Kappa 95% CI"], checker["Accuracy"]) == ("0.00", MISSING, "0%")
    # human 8 pass / 4 fail, judge 6 / 6, 10 agree: p_o = 10/12, p_e = 0.5, kappa = 2/3
    low, high = report["by_judge"][LLM]["kappa_ci95"]
    assert (llm["Labels"], llm["Accuracy"], llm["Kappa"]) == (12, "83%", "0.67")
    assert llm["Kappa 95% CI"] == f"[{low:.2f}, {high:.2f}]".replace("-", "−")
    assert llm["Trust"] == "trustworthy (kappa ≥ 0.6)"
    per_category = agreement_rows(
        {(j, c): r for j, by in report["by_category"].items() for c, r in by.items()}
    )
    assert [(r["Judge"], r["Category"]) for r in per_category] == [("checker", "format"), (LLM, "persona")]
    assert all(v is not None and "None" not in str(v) for r in rows + per_category for v in r.values())


@pytest.mark.parametrize(
    "value, shown", [(None, MISSING), (0.1749, "0.17"), (-0.4, "−0.40"), (1, "1.00"), (-0.001, "0.00")]
)
def test_numbers_are_rounded_with_a_true_minus(value, shown):
    assert number(value) == shown


def test_trust_words_follow_one_rule():
    base = {"n": MIN_LABELS, "kappa": 0.7, "trustworthy": True}
    assert trust(base) == "trustworthy (kappa ≥ 0.6)"
    assert trust(dict(base, kappa=0.2, trustworthy=False)) == "not trustworthy (kappa < 0.6)"
    assert trust(dict(base, kappa=None, trustworthy=None)).startswith("cannot tell")
    assert trust(dict(base, n=1, kappa=0.0, trustworthy=None)).startswith("too few labels")
    assert interval([-0.4, 0.7]) == "[−0.40, 0.70]" and interval(None) == MISSING
