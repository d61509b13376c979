"""Home page aggregates on a small hand-built store, checked against hand-computed values."""

import json
from datetime import datetime, timedelta

import pytest

from rnr_core.home import bucket_for, dashboard, percent, reason_label
from rnr_core.stats import wilson
from tests.test_audit import LLM, RULES, add_samples, judge

T0 = datetime(2026, 3, 1, 10, 0)


def at(store, when: str, sample_id: int, judge_name: str | None = None) -> None:
    """Set when a sample was made, or when one judge's verdicts on it were given."""
    if judge_name is None:
        store.con.execute("UPDATE samples SET created_at = ? WHERE id = ?", [when, sample_id])
    else:
        store.con.execute(
            "UPDATE verdicts SET created_at = ? WHERE sample_id = ? AND judge = ?",
            [when, sample_id, judge_name],
        )


def review(store, sample_id: int, status: str, template: str = "resp.v1", reason: str | None = None) -> None:
    store.con.execute(
        "UPDATE samples SET status = ?, template = ?, reject_reason = ? WHERE id = ?",
        [status, template, reason, sample_id],
    )


@pytest.fixture
def home(store):
    a1, a2, a3, a4 = add_samples(store, 4, run_id="run-a")
    b1, b2 = add_samples(store, 2, run_id="run-b")
    # a1: the checker outranks the LLM on r1; r3 has only an unsure verdict
    judge(store, a1, "checker", r1="fail")
    judge(store, a1, LLM, r1="pass", r2="pass", r3="unknown")
    # a2: a person outranks the checker; the later of two LLM judges decides r2; a stale label does not count
    judge(store, a2, "checker", r1="fail")
    store.label_verdict(a2, "r1", "pass", "ann")
    judge(store, a2, "llm:a", r2="fail")
    judge(store, a2, "llm:b", r2="pass", r3="pass")
    at(store, "2026-03-01 11:00", a2, "llm:a")
    at(store, "2026-03-01 12:00", a2, "llm:b")
    store.label_verdict(a2, "r3", "fail", "ann")
    store.con.execute("UPDATE verdicts SET stale = true WHERE sample_id = ? AND rule_id = 'r3'", [a2])
    judge(store, a2, "llm:c", r3="pass")  # judged after the edit
    # a3: two LLM judges at the same instant: the first by name decides
    judge(store, a3, "checker", r1="pass")
    judge(store, a3, "llm:a", r2="fail", r3="fail")
    judge(store, a3, "llm:b", r2="pass")
    at(store, "2026-03-01 11:00", a3, "llm:a")
    at(store, "2026-03-01 11:00", a3, "llm:b")
    # a4: edited rules: r2 became style, r3 was removed (its verdict no longer counts)
    edited = [RULES[0], dict(RULES[1], category="style")]
    store.con.execute("UPDATE samples SET edited_rules = ? WHERE id = ?", [json.dumps(edited), a4])
    judge(store, a4, "checker", r1="pass")
    judge(store, a4, LLM, r2="pass", r3="fail")
    judge(store, b1, "checker", r1="pass")
    judge(store, b1, LLM, r2="fail", r3="pass")
    review(store, a1, "accepted")
    review(store, a2, "rejected", "resp.v1", "rule_broken")
    review(store, a3, "rejected", "resp.v2", "unsafe")
    review(store, b1, "rejected", "resp.v1", "rule_broken")
    for sample_id, when in [(a1, "2026-03-01 10:05"), (a2, "2026-03-01 10:40"), (a3, "2026-03-02 08:00")]:
        at(store, when, sample_id)
    for sample_id, when in [(a4, "2026-03-05 09:00"), (b1, "2026-03-02 09:30"), (b2, "2026-03-02 09:45")]:
        at(store, when, sample_id)
    store.con.execute("UPDATE runs SET created_at = '2026-03-01 10:00', status = 'done' WHERE id = 'run-a'")
    store.con.execute("UPDATE runs SET created_at = '2026-03-02 09:00', status = 'failed' WHERE id = 'run-b'")
    for key, status in [("k1", "done"), ("k2", "done"), ("k3", "failed")]:
        store.record_item("run-a", key, "response", status, 1)
    store.record_item("run-b", "k1", "response", "failed", 3, error="timeout")
    store.reindex()  # the raw SQL above went around the writers that keep Home's outcomes
    return store


def rates(d: dict) -> dict:
    return {key: (r["passes"], r["n"]) for key, r in d.items()}


def test_pass_rates_follow_the_deciding_verdict_of_each_current_rule(home):
    d = dashboard(home)
    # format: a1 fail (checker over LLM), a2 pass (person over checker), a3, a4, b1 pass
    # persona: a1 pass, a2 pass (later LLM), a3 fail (llm:a before llm:b at one instant), b1 fail
    # safety: a1 unsure only, a2 pass (stale label ignored), a3 fail, b1 pass; a4's r3 was edited away
    assert rates(d["pass_rate_by_category"]) == {
        "format": (4, 5),
        "persona": (2, 4),
        "safety": (2, 3),
        "style": (1, 1),
    }
    assert rates(d["pass_rate_by_kind"]) == {"punctuation:no_comma": (4, 5), "free-form": (5, 8)}
    persona = d["pass_rate_by_category"]["persona"]
    assert persona["rate"] == 0.5 and persona["ci95"] == pytest.approx(list(wilson(2, 4)))
    assert home.rule_pass_counts() == home.recount_rule_passes()


def test_statuses_reject_reasons_and_latest_runs(home):
    d = dashboard(home)
    assert d["samples_by_status"] == {"pending": 2, "accepted": 1, "rejected": 3}
    assert d["reject_reasons"] == [
        {"template": "resp.v1", "system_prompt_template": "sp.v1", "reason": "rule_broken", "count": 2}
        | {"label": "Rule broken"},
        {"template": "resp.v2", "system_prompt_template": "sp.v1", "reason": "unsafe", "count": 1}
        | {"label": "Unsafe"},
    ]
    runs = [
        (r["id"], r["dataset"], r["status"], r["done"], r["failed"], r["samples"]) for r in d["latest_runs"]
    ]
    assert runs == [("run-b", "d", "failed", 0, 1, 2), ("run-a", "d", "done", 2, 1, 4)]
    assert d["db_path"] == home.path


def test_samples_over_time_per_run_status(home):
    # four days: too few bars per day, so per hour
    assert dashboard(home)["samples_over_time"]["bucket"] == "hour"
    d = dashboard(home, bucket="day")
    rows = [(r["period"], r["run_status"], r["samples"]) for r in d["samples_over_time"]["rows"]]
    assert rows == [
        (datetime(2026, 3, 1), "done", 2),
        (datetime(2026, 3, 2), "done", 1),
        (datetime(2026, 3, 2), "failed", 2),
        (datetime(2026, 3, 5), "done", 1),
    ]
    hourly = dashboard(home, bucket="hour")["samples_over_time"]["rows"]
    assert [(r["period"], r["samples"]) for r in hourly][:2] == [(T0, 2), (datetime(2026, 3, 2, 8), 1)]


def test_latest_runs_are_the_ten_newest(store):
    for i in range(12):
        add_samples(store, 1, run_id=f"run-{i:02d}")
        store.con.execute(
            "UPDATE runs SET created_at = ? WHERE id = ?", [datetime(2026, 1, i + 1), f"run-{i:02d}"]
        )
    latest = dashboard(store)["latest_runs"]
    assert [r["id"] for r in latest] == [f"run-{i:02d}" for i in range(11, 1, -1)]
    assert dashboard(store)["samples_over_time"]["bucket"] == "second"  # all made just now


def test_an_empty_store_has_an_empty_home(store):
    d = dashboard(store)
    assert d["samples_by_status"] == {"pending": 0, "accepted": 0, "rejected": 0}
    assert d["pass_rate_by_category"] == {} and d["pass_rate_by_kind"] == {}
    assert d["reject_reasons"] == [] and d["latest_runs"] == []
    assert d["samples_over_time"] == {"bucket": "day", "rows": []}


def test_sql_deciding_verdicts_match_the_python_ones(store):
    import random

    from rnr_core.stats import effective_verdict

    rng = random.Random(7)
    judges = ["checker", "llm:a", "llm:b", "human:x", "human:y", "adjudicator:z", "other"]
    times = [datetime(2026, 3, 1, 9), datetime(2026, 3, 1, 10)]  # two instants, so ties happen
    rows = []
    for i in range(80):
        # Each rule of each sample in a category of its own, so the category rates show every decision.
        rules = [dict(r, category=f"c{i}-{r['id']}") for r in RULES]
        (sample_id,) = add_samples(store, 1, rules=rules)
        for rule in ("r1", "r2", "r3"):
            for name in rng.sample(judges, rng.randint(0, 4)):
                rows.append(
                    (sample_id, rule, name, rng.choice(["pass", "fail", "unknown"]), rng.choice(times))
                )
    store.con.executemany(
        "INSERT INTO verdicts (sample_id, rule_id, judge, verdict, created_at, stale) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(*r, rng.random() < 0.2) for r in rows],
    )
    store.reindex()
    expected = {}
    current = [
        v for v in store._rows("SELECT * FROM verdicts ORDER BY sample_id, rule_id, judge") if not v["stale"]
    ]
    for sample_id, rule_id in sorted({(v["sample_id"], v["rule_id"]) for v in current}):
        decided = effective_verdict(
            [v for v in current if (v["sample_id"], v["rule_id"]) == (sample_id, rule_id)]
        )
        if decided in ("pass", "fail"):
            expected[f"c{sample_id - 1}-{rule_id}"] = (int(decided == "pass"), 1)
    assert len(expected) > 120
    assert rates(dashboard(store)["pass_rate_by_category"]) == expected


def kept_equals_recount(store) -> None:
    """Home's kept outcomes give the counts a decision over every verdict gives, and what a reindex keeps."""
    kept = store.rule_pass_counts()
    assert kept == store.recount_rule_passes()
    rows = "SELECT * FROM rule_outcomes ORDER BY ALL"
    before = store._rows(rows)
    store.reindex()
    assert store._rows(rows) == before


def test_kept_outcomes_follow_every_kind_of_write(store):
    import asyncio

    from rnr_core.judge import judge_samples

    s1, s2, _ = add_samples(store, 3)
    kept_equals_recount(store)  # new samples, no verdicts yet
    assert store.rule_pass_counts() == {"category": {}, "kind": {}}
    asyncio.run(judge_samples(store, run_id="run-1"))  # the checker, flags refreshed once for all
    kept_equals_recount(store)
    assert rates(dashboard(store)["pass_rate_by_kind"]) == {"punctuation:no_comma": (3, 3)}
    judge(store, s1, LLM, r2="fail", r3="pass")
    judge(store, s2, LLM, r2="pass", r3="unknown")
    kept_equals_recount(store)
    judge(store, s1, LLM, r2="pass")  # a judge's new verdict replaces its old one
    kept_equals_recount(store)
    store.label_verdict(s2, "r1", "fail", "ann")  # a person outranks the checker
    kept_equals_recount(store)
    assert rates(dashboard(store)["pass_rate_by_category"])["format"] == (2, 3)
    store.review([s1], "accept", "ann")
    store.review([s2], "reject", "ann", reason="wrong_role")
    kept_equals_recount(store)
    version = store.review_sample(s1)["version"]
    edited = [RULES[0], dict(RULES[1], category="style")]
    store.save_edit(s1, version, "ann", rules=edited)  # its verdicts go stale: they decide nothing now
    kept_equals_recount(store)
    assert "style" not in rates(dashboard(store)["pass_rate_by_category"])
    judge(store, s1, LLM, r2="fail")  # judged again after the edit, on its own rules
    kept_equals_recount(store)
    assert rates(dashboard(store)["pass_rate_by_category"])["style"] == (0, 1)
    store.revert(s1, 0, "ann", store.review_sample(s1)["version"])
    kept_equals_recount(store)
    (s4,) = add_samples(store, 1, run_id="run-2")
    judge(store, s4, "checker", r1="fail")
    kept_equals_recount(store)
    # s1's verdicts went stale again with the revert; s2 labelled fail, s3 passed, s4 failed
    assert rates(dashboard(store)["pass_rate_by_kind"])["punctuation:no_comma"] == (1, 3)


def test_migration_8_fills_the_outcomes_of_an_older_store(tmp_path):
    from rnr_core.store import Store

    path = str(tmp_path / "old.duckdb")
    with Store(path) as store:
        (s1, s2) = add_samples(store, 2)
        judge(store, s1, "checker", r1="fail")
        judge(store, s2, LLM, r2="pass", r3="fail")
        expected = store.recount_rule_passes()
        # Back to the schema before migration 8, with the verdicts it found.
        store.con.execute("DROP TABLE rule_outcomes")
        store.con.execute("DELETE FROM schema_migrations WHERE version = 8")
    with Store(path) as store:
        assert store.schema_version() >= 8
        assert store.rule_pass_counts() == expected
        kept_equals_recount(store)


@pytest.mark.parametrize(
    "span, bucket",
    [
        (None, "day"),
        (timedelta(0), "second"),
        (timedelta(seconds=35), "second"),
        (timedelta(minutes=5), "second"),
        (timedelta(minutes=6), "minute"),
        (timedelta(hours=1), "minute"),  # one hour is sixty bars, not one
        (timedelta(hours=5, minutes=59), "minute"),
        (timedelta(hours=6), "hour"),
        (timedelta(days=3), "hour"),
        (timedelta(days=6), "day"),
        (timedelta(days=400), "day"),
    ],
)
def test_time_buckets_fit_the_span(span, bucket):
    assert bucket_for(span) == bucket


def test_a_store_made_within_one_hour_is_drawn_per_minute(store):
    ids = add_samples(store, 4)
    for i, sample_id in enumerate(ids):
        at(store, f"2026-03-01 10:{i * 15:02d}", sample_id)
    over_time = dashboard(store)["samples_over_time"]
    assert over_time["bucket"] == "minute"
    assert [r["period"] for r in over_time["rows"]] == [datetime(2026, 3, 1, 10, m) for m in (0, 15, 30, 45)]
    with pytest.raises(ValueError, match="one of second, minute, hour, day"):
        store.samples_over_time("week")


@pytest.mark.parametrize(
    "rate, text",
    [
        (None, "–"),
        (0.0, "0%"),
        (0.004, "0.4%"),
        (0.5, "50%"),
        (0.123, "12%"),
        (0.996, "99.6%"),
        (1.0, "100%"),
    ],
)
def test_percent_labels(rate, text):
    assert percent(rate) == text


def test_reject_reasons_carry_the_apps_labels(home):
    labels = {(r["reason"], r["label"]) for r in dashboard(home)["reject_reasons"]}
    assert labels == {("rule_broken", "Rule broken"), ("unsafe", "Unsafe")}
    assert reason_label("wrong_role") == "Wrong role" and reason_label(None) == "Unspecified"


def test_the_change_token_moves_with_every_kind_of_write(store):
    import time

    tokens = [store.change_token()]

    def moved(write) -> None:
        time.sleep(0.002)  # timestamps are compared, so let the clock move
        write()
        tokens.append(store.change_token())
        assert tokens[-1] != tokens[-2], write

    (s1,) = add_samples(store, 1)  # a run and a new sample
    tokens.append(store.change_token())
    assert tokens[-1] != tokens[0]
    moved(lambda: store.record_item("run-1", "k1", "response", "done", 1))
    moved(lambda: judge(store, s1, "checker", r1="pass"))
    moved(lambda: store.label_verdict(s1, "r2", "fail", "ann"))
    moved(lambda: store.review([s1], "reject", "ann", reason="wrong_role"))
    moved(lambda: store.save_edit(s1, store.review_sample(s1)["version"], "ann", response="New."))
    moved(lambda: store.set_run_status("run-1", "completed"))
