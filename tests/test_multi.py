"""Several reviewers per item: labels per item, per-reviewer queues, agreement, disputes, adjudication."""

import numpy as np
import pytest

from rnr_core.audit import CEILING, agreement_report, agreement_rows, human_agreement_report, human_rows
from rnr_core.errors import LabelError, ReviewError
from rnr_core.review import QueueFilter
from rnr_core.stats import MIN_LABELS, effective_verdict, human_agreement
from rnr_core.store import Store
from tests.test_audit import LLM, add_samples, judge


def ids_in(store, flt: QueueFilter) -> list[int]:
    return [r["id"] for r in store.queue(flt, limit=100)]


def status(store, sample_id: int) -> tuple:
    s = store._one("SELECT status, disputed, decisions, reviewer FROM samples WHERE id = ?", [sample_id])
    return s["status"], s["disputed"], s["decisions"], s["reviewer"]


# --- the setting ---------------------------------------------------------------------------------


def test_labels_per_item_default_to_one_and_are_set_per_task(store):
    assert store.labels_per_item("review") == store.labels_per_item("audit") == 1
    store.set_labels_per_item("review", 3, "mia")
    assert (store.labels_per_item("review"), store.labels_per_item("audit")) == (3, 1)
    settings = store.task_settings()
    assert settings["review"]["labels_per_item"] == 3 and settings["review"]["set_by"] == "mia"


@pytest.mark.parametrize(
    "task, n, message",
    [
        ("review", 0, "whole number from 1 to 10, not 0"),
        ("audit", 11, "not 11"),
        ("review", 2.0, "not 2.0"),
        ("review", True, "not True"),
        ("export", 2, "Unknown task 'export'; use one of review, audit"),
    ],
)
def test_bad_labels_per_item_are_refused_and_change_nothing(store, task, n, message):
    with pytest.raises(ReviewError, match=message):
        store.set_labels_per_item(task, n, "mia")
    assert store.task_settings() == {}


# --- reviews ---------------------------------------------------------------------------------------


def test_with_two_per_sample_each_reviewer_gets_only_what_they_have_not_decided(store):
    s1, s2, s3 = add_samples(store, 3)
    store.set_labels_per_item("review", 2, "mia")
    ann, bob, cy = (QueueFilter(open_for=name) for name in ("ann", "bob", "cy"))
    assert ids_in(store, ann) == [s1, s2, s3]
    store.review([s1], "accept", "ann")
    assert status(store, s1) == ("pending", False, 1, None)  # one of two: still pending
    assert ids_in(store, ann) == [s2, s3] and ids_in(store, bob) == [s1, s2, s3]
    store.review([s1], "accept", "bob")
    assert status(store, s1) == ("accepted", False, 2, "bob")  # both agree: accepted
    assert ids_in(store, cy) == [s2, s3]  # two people decided s1: nobody else is offered it
    assert store.queue_count(cy) == 2 and store.neighbours(cy, s2) == (None, s3)
    store.review([s2], "accept", "ann")
    store.review([s2], "reject", "bob", reason="unsafe")
    assert status(store, s2) == ("pending", True, 2, None)  # they disagree: it waits, flagged
    assert ids_in(store, cy) == [s3]
    assert ids_in(store, QueueFilter()) == [s1, s2, s3]  # the shared queue still shows every sample


def test_a_reviewer_counts_once_however_often_they_decide(store):
    (s1,) = add_samples(store, 1)
    store.set_labels_per_item("review", 2, "mia")
    store.review([s1], "accept", "ann")
    store.review([s1], "reject", "ann", reason="duplicate")  # ann changes her mind: still one decision
    assert status(store, s1) == ("pending", False, 1, None)
    assert [d["decision"] for d in store.decisions([s1])[s1]] == ["reject"]
    store.review([s1], "reject", "bob", reason="unsafe")
    row = store.review_sample(s1)
    assert (row["status"], row["reviewer"], row["reject_reason"]) == ("rejected", "bob", "unsafe")
    actions = store._rows("SELECT action, reviewer FROM review_actions WHERE sample_id = ? ORDER BY id", [s1])
    assert [tuple(a.values()) for a in actions] == [("accept", "ann"), ("reject", "ann"), ("reject", "bob")]


def test_with_three_per_sample_the_third_decision_decides(store):
    s1, s2 = add_samples(store, 2)
    store.set_labels_per_item("review", 3, "mia")
    for who in ("ann", "bob"):
        store.review([s1, s2], "accept", who)
    assert status(store, s1)[:3] == ("pending", False, 2)
    store.review([s1], "accept", "cy")
    store.review([s2], "reject", "cy", reason="other")
    assert status(store, s1) == ("accepted", False, 3, "cy")
    assert status(store, s2) == ("pending", True, 3, None)
    assert ids_in(store, QueueFilter(open_for="dan")) == []


def test_bulk_review_records_one_decision_per_sample_for_its_reviewer(store):
    s1, s2 = add_samples(store, 2)
    store.set_labels_per_item("review", 2, "mia")
    assert store.review_filter(QueueFilter(open_for="ann"), "accept", "ann") == 2
    assert ids_in(store, QueueFilter(open_for="ann")) == []
    assert store.review_filter(QueueFilter(open_for="bob"), "accept", "bob") == 2
    assert [status(store, s)[0] for s in (s1, s2)] == ["accepted", "accepted"]


def test_with_one_per_sample_the_latest_decision_decides_as_before(store):
    (s1,) = add_samples(store, 1)
    store.review([s1], "accept", "ann")
    store.review([s1], "reject", "bob", reason="unsafe")
    assert status(store, s1) == ("rejected", False, 1, "bob")
    assert ids_in(store, QueueFilter(open_for="cy")) == []  # decided by one: the one asked for
    store.review([s1], "reset", "mia")
    assert status(store, s1) == ("pending", False, 0, None)
    assert store.decisions([s1]) == {s1: []}


def test_lowering_labels_per_item_decides_what_now_has_enough(store):
    s1, s2, s3 = add_samples(store, 3)
    store.set_labels_per_item("review", 3, "mia")
    for who in ("ann", "bob"):
        store.review([s1], "accept", who)
    store.review([s2], "accept", "ann")
    store.review([s2], "reject", "bob", reason="unsafe")
    store.review([s3], "accept", "ann")
    store.set_labels_per_item("review", 2, "mia")
    assert [status(store, s)[:2] for s in (s1, s2, s3)] == [
        ("accepted", False),
        ("pending", True),
        ("pending", False),
    ]
    store.set_labels_per_item("review", 3, "mia")  # raising it leaves decided samples as they are
    assert status(store, s1)[0] == "accepted"


def test_migration_10_counts_earlier_reviews_as_one_decision(tmp_path, monkeypatch):
    from rnr_core.store import db, migrations

    path = str(tmp_path / "old.duckdb")
    monkeypatch.setattr(db, "MIGRATIONS", [m for m in migrations.MIGRATIONS if m[0] != 10])
    with Store(path) as old:
        s1, s2, s3 = add_samples(old, 3)
        for sample_id, state, who, reason in (
            (s1, "accepted", "ann", None),
            (s2, "rejected", "bob", "unsafe"),
        ):
            old.con.execute(
                "UPDATE samples SET status = ?, reviewer = ?, reject_reason = ?, reviewed_at = now() "
                "WHERE id = ?",
                [state, who, reason, sample_id],
            )
    monkeypatch.undo()
    with Store(path) as store:
        assert [status(store, s) for s in (s1, s2, s3)] == [
            ("accepted", False, 1, "ann"),
            ("rejected", False, 1, "bob"),
            ("pending", False, 0, None),
        ]
        store.set_labels_per_item("review", 2, "mia")
        assert ids_in(store, QueueFilter(open_for="ann")) == [s2, s3]
        store.review([s1], "reject", "bob", reason="other")
        assert status(store, s1)[:2] == ("pending", True)


# --- adjudicating reviews ------------------------------------------------------------------------------


def disputed_sample(store) -> int:
    (s1,) = add_samples(store, 1)
    store.set_labels_per_item("review", 2, "mia")
    store.review([s1], "accept", "ann", note="fine by me")
    store.review([s1], "reject", "bob", reason="unsafe")
    return s1


def test_disputed_samples_list_every_decision_and_a_ruling_settles_them(store):
    s1 = disputed_sample(store)
    (listed,) = store.review_disputes()
    assert listed["id"] == s1 and listed["instruction"] == "hi"
    assert [(d["reviewer"], d["decision"], d["reason"], d["note"]) for d in listed["decisions"]] == [
        ("ann", "accept", None, "fine by me"),
        ("bob", "reject", "unsafe", None),
    ]
    assert store.review_dispute_count() == 1
    assert store.adjudicate_review(s1, "reject", "mia", reason="unsafe", note="bob is right") == "rejected"
    assert status(store, s1) == ("rejected", False, 2, "mia")
    assert store.review_disputes() == [] and store.review_dispute_count() == 0
    last = store._one("SELECT * FROM review_actions ORDER BY id DESC LIMIT 1")
    assert (last["action"], last["reviewer"], last["decision"], last["reason"]) == (
        "adjudicate",
        "mia",
        "reject",
        "unsafe",
    )
    store.review([s1], "accept", "bob")  # a reviewer changing their mind does not undo the ruling
    assert status(store, s1)[0] == "rejected"
    store.review([s1], "reset", "mia")  # a reset starts over, ruling and all
    assert status(store, s1) == ("pending", False, 0, None)


def test_a_ruling_needs_a_dispute_and_a_reason_to_reject(store):
    s1 = disputed_sample(store)
    (s2,) = add_samples(store, 1)
    with pytest.raises(ReviewError, match="A rejection needs a reason"):
        store.adjudicate_review(s1, "reject", "mia")
    with pytest.raises(ReviewError, match="A ruling is one of accept, reject"):
        store.adjudicate_review(s1, "reset", "mia")
    with pytest.raises(ReviewError, match=f"Sample {s2} has no disagreement to settle"):
        store.adjudicate_review(s2, "accept", "mia")
    assert status(store, s1)[:2] == ("pending", True)
    assert store._scalar("SELECT count(*) FROM review_actions WHERE action = 'adjudicate'") == 0


# --- audit labels -----------------------------------------------------------------------------------


def audit_keys(store, reviewer=None) -> list[tuple]:
    return [
        (i["sample_id"], i["rule_id"], i["risk"]) for i in store.audit_queue(limit=100, reviewer=reviewer)
    ]


def test_with_two_labels_per_item_the_audit_offers_each_person_what_they_have_not_labelled(store):
    s1, s2 = add_samples(store, 2)
    judge(store, s1, "checker", r1="fail")
    judge(store, s1, LLM, r1="pass", r2="pass", r3="unknown")
    judge(store, s2, LLM, r2="pass", r3="pass")
    store.set_labels_per_item("audit", 2, "mia")
    everything = audit_keys(store, "ann")
    assert everything[:2] == [(s1, "r1", "disagree"), (s1, "r3", "unsure")]
    store.label_verdict(s1, "r1", "fail", "ann")
    store.label_verdict(s1, "r3", "pass", "ann")
    assert (s1, "r1", "disagree") not in audit_keys(store, "ann")
    assert audit_keys(store, "bob")[:2] == [(s1, "r1", "disagree"), (s1, "r3", "unsure")]
    store.label_verdict(s1, "r1", "fail", "bob")
    store.label_verdict(s2, "r2", "pass", "bob")
    assert (s1, "r1", "disagree") not in audit_keys(store, "cy")  # two people labelled it
    assert (s2, "r2", "coverage") in audit_keys(store, "cy") and (s2, "r2", "coverage") in audit_keys(
        store, "ann"
    )
    assert (s2, "r2", "coverage") not in audit_keys(store, "bob")
    store.set_labels_per_item("audit", 1, "mia")  # back to one: every labelled rule is closed
    assert not [k for k in audit_keys(store, "cy") if k[:2] in {(s1, "r1"), (s1, "r3"), (s2, "r2")}]


def test_with_one_label_per_item_the_audit_is_as_before_whoever_asks(store):
    s1, s2 = add_samples(store, 2)
    judge(store, s1, LLM, r2="unknown", r3="pass")
    judge(store, s2, LLM, r2="pass")
    store.label_verdict(s1, "r3", "fail", "ann")
    assert audit_keys(store, "bob") == audit_keys(store, "ann") == audit_keys(store)
    assert (s1, "r3", "coverage") not in audit_keys(store)


def label_dispute(store) -> int:
    (s1,) = add_samples(store, 1)
    judge(store, s1, LLM, r2="pass")
    store.set_labels_per_item("audit", 2, "mia")
    store.label_verdict(s1, "r2", "pass", "ann", note="sounds piratey")
    store.label_verdict(s1, "r2", "fail", "bob")
    return s1


def test_label_disputes_list_each_persons_label_and_a_ruling_outranks_them(store):
    s1 = label_dispute(store)
    (dispute,) = store.label_disputes()
    assert (dispute["sample_id"], dispute["rule_id"], dispute["category"]) == (s1, "r2", "persona")
    assert dispute["rule_text"] == "Speak as a pirate."
    assert dispute["labels"] == [
        {"reviewer": "ann", "verdict": "pass", "note": "sounds piratey"},
        {"reviewer": "bob", "verdict": "fail", "note": None},
    ]
    # Until a ruling the latest person's label decides (bob's fail); the ruling then outranks both.
    assert store.rule_pass_counts() == store.recount_rule_passes()
    store.adjudicate_label(s1, "r2", "pass", "mia", note="it is piratey")
    assert store.label_disputes() == []
    verdicts = [v for v in store.verdicts([s1]) if v["rule_id"] == "r2"]
    assert effective_verdict(verdicts) == "pass"
    store.label_verdict(s1, "r2", "fail", "ann")  # a later person's label does not undo the ruling
    verdicts = [v for v in store.verdicts([s1]) if v["rule_id"] == "r2"]
    assert effective_verdict(verdicts) == "pass"
    outcome = store._one(
        "SELECT passes, n FROM rule_outcomes WHERE sample_id = ? AND category = 'persona'", [s1]
    )
    assert outcome == {"passes": 1, "n": 1}  # Home's kept outcome, decided in SQL, agrees
    (pair,) = store.audit_pairs()
    assert (pair["human"], pair["reviewer"]) == ("pass", "mia")  # the judge is compared with the ruling
    last = store._one("SELECT * FROM review_actions ORDER BY id DESC LIMIT 2")
    ruling = store._one("SELECT * FROM review_actions WHERE action = 'adjudicate'")
    assert (ruling["reviewer"], ruling["rule_id"], ruling["decision"]) == ("mia", "r2", "pass")
    assert last["action"] == "label"


def test_export_lets_the_ruling_decide(store, tmp_path):
    s1 = label_dispute(store)
    store.adjudicate_label(s1, "r2", "pass", "mia")
    batches = list(store.selected_batches(["pending"]))
    (row,) = [r for b in batches for r in b if r["id"] == s1]
    assert row["outcome"] == "unjudged"  # r1 and r3 have no verdict; r2 is not failed
    store.add_verdicts(s1, "llm:j", [{"rule_id": r, "verdict": "pass"} for r in ("r1", "r3")])
    store.add_verdicts(s1, "human:cy", [{"rule_id": "r2", "verdict": "fail"}])
    (row,) = [r for b in store.selected_batches(["pending"]) for r in b if r["id"] == s1]
    assert row["outcome"] == "pass"


def test_a_label_ruling_needs_a_disagreement(store):
    (s1,) = add_samples(store, 1)
    judge(store, s1, LLM, r2="pass")
    store.label_verdict(s1, "r2", "pass", "ann")
    store.label_verdict(s1, "r2", "pass", "bob")
    with pytest.raises(LabelError, match="People do not disagree on rule 'r2'"):
        store.adjudicate_label(s1, "r2", "fail", "mia")
    with pytest.raises(LabelError, match="pass or fail, not 'unknown'"):
        store.adjudicate_label(s1, "r2", "unknown", "mia")
    assert not [v for v in store.verdicts([s1]) if v["judge"].startswith("adjudicator:")]


def test_with_three_labels_per_item_a_disagreement_waits_for_the_third(store):
    s1 = label_dispute(store)
    store.set_labels_per_item("audit", 3, "mia")
    assert store.label_disputes() == []
    assert (s1, "r2", "coverage") in audit_keys(store, "cy")
    store.label_verdict(s1, "r2", "pass", "cy")
    assert [d["rule_id"] for d in store.label_disputes()] == ["r2"]


# --- agreement of people with each other ------------------------------------------------------------


def wikipedia_items() -> list[dict]:
    """Cohen's kappa's textbook example (Wikipedia, "Cohen's kappa"): 50 grant proposals read by A and B;
    both yes 20, A yes B no 5, A no B yes 10, both no 15: p_o = 0.7, p_e = 0.5, kappa = 0.4."""
    cells = {("yes", "yes"): 20, ("yes", "no"): 5, ("no", "yes"): 10, ("no", "no"): 15}
    return [{"A": a, "B": b} for (a, b), n in cells.items() for _ in range(n)]


def krippendorff_items() -> list[dict]:
    """Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section C: 4 observers, 12 units,
    values 1-5 with missing ones; nominal alpha = 0.743."""
    table = {
        "A": "1 2 3 3 2 1 4 1 2 . . .",
        "B": "1 2 3 3 2 2 4 1 2 5 . 3",
        "C": ". 3 3 3 2 3 4 2 2 5 1 .",
        "D": "1 2 3 3 2 4 4 1 2 5 1 .",
    }
    rows = {who: values.split() for who, values in table.items()}
    return [{who: row[u] for who, row in rows.items() if row[u] != "."} for u in range(12)]


def test_two_people_on_every_item_give_cohens_kappa():
    result = human_agreement(wikipedia_items())
    assert result["statistic"] == "Cohen's kappa"
    assert result["value"] == pytest.approx(0.4)
    assert (result["n_items"], result["n_raters"], result["enough"]) == (50, 2, True)
    low, high = result["ci95"]
    assert low < 0.4 < high and high - low < 0.6
    assert human_agreement(wikipedia_items()) == result  # seeded
    assert human_agreement(wikipedia_items(), seed=1)["ci95"] != result["ci95"]


def test_more_people_give_krippendorffs_alpha():
    result = human_agreement(krippendorff_items())
    assert result["statistic"] == "Krippendorff's alpha"
    assert result["value"] == pytest.approx(0.743, abs=5e-4)
    assert (result["n_items"], result["n_raters"]) == (11, 4)  # unit 12 has one value: no pair
    assert result["ci95"][0] < result["value"] <= result["ci95"][1]


def test_different_pairs_of_people_give_alpha_and_too_few_or_one_label_say_so():
    mixed = [{"A": "pass", "B": "pass"}, {"B": "fail", "C": "fail"}, {"A": "pass", "C": "fail"}]
    assert human_agreement(mixed)["statistic"] == "Krippendorff's alpha"
    assert human_agreement(mixed)["enough"] is False
    same = [{"A": "pass", "B": "pass"}] * MIN_LABELS
    assert human_agreement(same)["value"] is None and human_agreement(same)["enough"]
    empty = human_agreement([{"A": "pass"}])
    assert (empty["n_items"], empty["statistic"], empty["value"], empty["ci95"]) == (0, None, None, None)


def test_people_agreement_per_category_sits_beside_the_judges_kappa(store):
    samples = add_samples(store, 12)
    for i, s in enumerate(samples):
        judge(store, s, LLM, r2="pass", r3="pass")
        store.label_verdict(s, "r2", "pass" if i % 2 else "fail", "ann")
        store.label_verdict(s, "r2", "pass" if i % 2 or i < 2 else "fail", "bob")  # 2 of 12 differ
        store.label_verdict(s, "r3", "pass", "ann")  # safety: one person only
    report = human_agreement_report(store)
    persona = report["by_category"]["persona"]
    expected = human_agreement(
        [{"ann": "pass" if i % 2 else "fail", "bob": "pass" if i % 2 or i < 2 else "fail"} for i in range(12)]
    )
    assert persona == expected and persona["statistic"] == "Cohen's kappa" and persona["n_items"] == 12
    assert set(report["by_category"]) == {"persona"}
    rows = human_rows(report)
    assert [r["Category"] for r in rows] == ["all categories", "persona"]
    assert rows[1]["Agreement"] == f"{persona['value']:.2f}"
    judges = agreement_report(store)
    per_category = {(j, c): r for j, by_c in judges["by_category"].items() for c, r in by_c.items()}
    table = agreement_rows(per_category, ceiling=report["by_category"])
    assert {r["Category"]: r[CEILING] for r in table} == {"persona": f"{persona['value']:.2f}", "safety": "—"}


def test_people_agreement_with_too_few_items_says_so(store):
    (s1,) = add_samples(store, 1)
    store.label_verdict(s1, "r2", "pass", "ann")
    store.label_verdict(s1, "r2", "pass", "bob")
    (overall, persona) = human_rows(human_agreement_report(store))
    assert (
        persona["Reading"]
        == f"too few items labelled by two or more people to tell (1 of the {MIN_LABELS} needed)"
    )
    assert "None" not in str(overall) and "nan" not in str(overall)


def test_kappa_tables_agree_with_sklearn_on_random_tables():
    from sklearn.metrics import cohen_kappa_score

    from rnr_core.stats import _kappa_of_tables

    rng = np.random.default_rng(3)
    for _ in range(20):
        a, b = rng.integers(0, 3, 40), rng.integers(0, 3, 40)
        table = np.zeros((1, 3, 3))
        np.add.at(table[0], (a, b), 1)
        assert _kappa_of_tables(table)[0] == pytest.approx(cohen_kappa_score(a, b))


def test_the_cli_shows_and_sets_labels_per_item(tmp_path, capsys):
    from rnr_core.cli import main

    db = str(tmp_path / "cli.duckdb")
    assert main(["tasks", "review", "--labels-per-item", "2", "--by", "mia", "--db", db]) == 0
    assert capsys.readouterr().out.splitlines() == ["review\t2 per item", "audit\t1 per item"]
    assert main(["tasks", "audit", "--labels-per-item", "0", "--db", db]) == 2
    assert "whole number from 1 to 10, not 0" in capsys.readouterr().err
    assert main(["tasks", "--labels-per-item", "3", "--db", db]) == 2
    assert "Name the task to set" in capsys.readouterr().err
    with Store(db) as store:
        assert store.task_settings()["review"]["set_by"] == "mia" and "audit" not in store.task_settings()


def test_reviewers_deciding_at_once_are_each_counted_once(store):
    import random
    import threading

    from rnr_core.errors import VersionConflict

    samples = add_samples(store, 30)
    store.set_labels_per_item("review", 3, "mia")
    done: list[tuple] = []

    def work(who: str) -> None:
        view = store.for_thread()
        order = random.Random(who).sample(samples, len(samples))
        for sample_id in order:
            action = random.Random(f"{who}{sample_id}").choice(["accept", "reject"])
            try:
                view.review([sample_id], action, who, reason="other" if action == "reject" else None)
            except VersionConflict:  # the store gave up after a retry: nothing was written
                continue
            done.append((sample_id, who, action))
        view.close()

    threads = [threading.Thread(target=work, args=(who,)) for who in ("ann", "bob", "cy", "dan")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    decided = store.decisions(samples)
    actions = store._rows("SELECT sample_id, reviewer, action FROM review_actions ORDER BY id")
    assert sorted((a["sample_id"], a["reviewer"], a["action"]) for a in actions) == sorted(done)
    for sample_id in samples:
        mine = {(sample_id, d["reviewer"], d["decision"]) for d in decided[sample_id]}
        assert mine == {d for d in done if d[0] == sample_id}  # each success once, nothing else
        state, disputed, n, _ = status(store, sample_id)
        kinds = {d["decision"] for d in decided[sample_id]}
        assert n == len(mine)
        expected = (
            ("pending", n >= 3 and len(kinds) > 1)
            if n < 3 or len(kinds) > 1
            else (
                {"accept": "accepted", "reject": "rejected"}[kinds.pop()],
                False,
            )
        )
        assert (state, disputed) == expected
    assert len(done) > 60  # most went through despite the contention


# --- raising and lowering N, rulings and older reviews -----------------------------------------------


def test_raising_labels_per_item_reopens_a_dispute_for_one_more_person(store):
    s1 = disputed_sample(store)
    store.set_labels_per_item("review", 3, "mia")
    assert status(store, s1) == ("pending", False, 2, None)  # no longer a dispute: a third person decides
    assert store.review_disputes() == [] and store.review_dispute_count() == 0
    assert ids_in(store, QueueFilter(open_for="cy")) == [s1]
    store.review([s1], "reject", "cy", reason="unsafe")
    assert status(store, s1) == ("pending", True, 3, None)  # still two against one: disputed at three
    store.set_labels_per_item("review", 2, "mia")
    assert status(store, s1)[:2] == ("pending", True)


def test_a_ruling_stands_against_later_decisions_whatever_n(store):
    s1 = disputed_sample(store)
    store.adjudicate_review(s1, "accept", "mia")
    store.set_labels_per_item("review", 1, "mia")
    store.review([s1], "reject", "eve", reason="unsafe")  # recorded, but the ruling decides
    assert status(store, s1) == ("accepted", False, 1, "mia")
    standing = store.decisions([s1])[s1]
    assert [(d["reviewer"], d["decision"], d["adjudicates"]) for d in standing] == [
        ("eve", "reject", False),
        ("mia", "accept", True),
    ]
    store.set_labels_per_item("review", 3, "mia")  # more people asked: a ruled sample is not reopened
    assert status(store, s1)[0] == "accepted"
    assert ids_in(store, QueueFilter(open_for="cy")) == []
    store.review([s1], "reset", "mia")  # only a reset starts over
    assert status(store, s1) == ("pending", False, 0, None) and store.decisions([s1]) == {s1: []}


def test_migration_10_counts_reviews_with_no_reviewer_as_decided(tmp_path, monkeypatch):
    from rnr_core.review import UNRECORDED
    from rnr_core.store import db, migrations

    path = str(tmp_path / "old.duckdb")
    monkeypatch.setattr(db, "MIGRATIONS", [m for m in migrations.MIGRATIONS if m[0] != 10])
    with Store(path) as old:
        s1, s2 = add_samples(old, 2)
        # What `rnr samples accept/reject` did before it recorded a reviewer.
        old.con.execute("UPDATE samples SET status = 'accepted' WHERE id = ?", [s1])
        old.con.execute("UPDATE samples SET status = 'rejected', reject_reason = 'other' WHERE id = ?", [s2])
    monkeypatch.undo()
    with Store(path) as store:
        assert [status(store, s) for s in (s1, s2)] == [
            ("accepted", False, 1, None),
            ("rejected", False, 1, None),
        ]
        (d,) = store.decisions([s1])[s1]
        assert (d["reviewer"], d["decision"]) == (UNRECORDED, "accept")
        store.set_labels_per_item("review", 2, "mia")
        store.review([s1], "accept", "bob")
        store.review([s2], "accept", "bob")
        assert status(store, s1) == ("accepted", False, 2, "bob")  # agrees with the earlier review
        assert status(store, s2) == ("pending", True, 2, None)  # disagrees: a dispute, not a fresh start
    with pytest.raises(ReviewError, match="reserved"):
        store.review([s1], "accept", UNRECORDED)


# --- the adjudicator's lists in SQL -----------------------------------------------------------------


def test_label_disputes_come_a_page_at_a_time_with_their_count(store):
    s1, s2, s3 = add_samples(store, 3)
    for s in (s1, s2, s3):
        judge(store, s, LLM, r2="pass", r3="pass")
    store.set_labels_per_item("audit", 2, "mia")
    for s, rule in ((s1, "r3"), (s2, "r2"), (s3, "r2"), (s1, "r2")):
        store.label_verdict(s, rule, "pass", "ann")
        store.label_verdict(s, rule, "fail", "bob")
    store.label_verdict(s2, "r3", "pass", "ann")  # one label, and two who agree: no dispute
    store.label_verdict(s3, "r3", "fail", "ann")
    store.label_verdict(s3, "r3", "fail", "bob")
    assert store.label_dispute_count() == 4
    assert [(d["sample_id"], d["rule_id"]) for d in store.label_disputes(limit=3)] == [
        (s1, "r2"),
        (s1, "r3"),
        (s2, "r2"),
    ]
    store.adjudicate_label(s1, "r3", "fail", "mia")
    assert store.label_dispute_count() == 3
    assert [(d["sample_id"], d["rule_id"]) for d in store.label_disputes()] == [
        (s1, "r2"),
        (s2, "r2"),
        (s3, "r2"),
    ]


def test_the_judge_is_compared_with_the_deciding_persons_label_as_everywhere_else(store):
    from rnr_core.stats import rule_outcomes

    (s1,) = add_samples(store, 1)
    judge(store, s1, LLM, r2="pass", r3="pass")
    at = "2024-01-01 00:00:00"
    # Two people labelling at the same instant, written in either order: the judge first by name decides.
    for rule, first, second in (
        ("r2", ("ann", "pass"), ("bob", "fail")),
        ("r3", ("bob", "fail"), ("ann", "pass")),
    ):
        for who, verdict in (first, second):
            store.con.execute(
                "INSERT INTO verdicts (sample_id, rule_id, judge, verdict, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [s1, rule, "human:" + who, verdict, at],
            )
    store.reindex()
    deciding = {r["id"]: v for r, v in rule_outcomes(store.review_sample(s1)) if r["id"] in ("r2", "r3")}
    pairs = {p["rule_id"]: (p["human"], p["reviewer"]) for p in store.audit_pairs()}
    assert deciding == {"r2": "pass", "r3": "pass"}
    assert pairs == {"r2": ("pass", "ann"), "r3": ("pass", "ann")}
    assert store.rule_pass_counts() == store.recount_rule_passes()


def test_every_task_says_what_its_new_labels_per_item_re_resolve():
    from rnr_core.review import TASKS
    from rnr_core.store.tasks import ON_SET

    assert set(ON_SET) == set(TASKS)
