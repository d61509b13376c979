"""Pass-rate metrics: deciding verdicts, sample outcomes and bootstrap intervals."""

from datetime import datetime, timedelta

import numpy as np

from rnr_core.stats import effective_verdict, quality, rate

T0 = datetime(2026, 1, 1)


def v(rule, verdict, judge="checker", minutes=0):
    return {
        "rule_id": rule,
        "verdict": verdict,
        "judge": judge,
        "created_at": T0 + timedelta(minutes=minutes),
    }


def sample(verdicts, kinds=("punctuation:no_comma", None)):
    rules = [
        {"id": f"r{i}", "kind": k, "category": "style" if k else "persona"} for i, k in enumerate(kinds, 1)
    ]
    return {"rules": rules, "verdicts": verdicts}


def test_precedence_is_person_then_checker_then_llm_then_latest():
    assert effective_verdict([v("r1", "pass", "llm:m"), v("r1", "fail", "checker")]) == "fail"
    assert effective_verdict([v("r1", "fail", "checker"), v("r1", "pass", "human:ann")]) == "pass"
    assert effective_verdict([v("r1", "fail", "llm:a", 0), v("r1", "pass", "llm:b", 5)]) == "pass"
    assert effective_verdict([v("r1", "unknown", "llm:a")]) == "unknown"
    assert effective_verdict([v("r1", "unknown", "llm:a"), v("r1", "fail", "llm:b")]) == "fail"
    assert effective_verdict([]) is None


def test_pass_rate_counts_only_fully_judged_samples():
    samples = [
        sample([v("r1", "pass"), v("r2", "pass", "llm:m")]),
        sample([v("r1", "pass"), v("r2", "fail", "llm:m")]),
        sample([v("r1", "fail")]),  # a failing rule decides the sample
        sample([v("r1", "pass"), v("r2", "unknown", "llm:m")]),  # unjudged
        sample([v("r1", "pass")]),
    ]  # r2 never judged
    q = quality(samples)
    assert (q["samples"], q["judged_samples"], q["unjudged_samples"]) == (5, 3, 2)
    assert q["pass_rate"]["rate"] == 1 / 3 and q["pass_rate"]["n"] == 3
    assert q["by_kind"]["punctuation:no_comma"]["rate"] == 4 / 5
    assert q["by_kind"]["free-form"] == {**q["by_kind"]["free-form"], "rate": 0.5, "n": 2}
    assert set(q["by_category"]) == {"style", "persona"}


def test_bootstrap_interval_brackets_the_rate_and_narrows_with_n():
    rng = np.random.default_rng(0)
    small, large = rate(30, 50, rng), rate(3000, 5000, rng)
    for r in (small, large):
        low, high = r["ci95"]
        assert low <= r["rate"] <= high
    assert (large["ci95"][1] - large["ci95"][0]) < (small["ci95"][1] - small["ci95"][0]) / 5
    # about +-1.96 standard errors for a proportion
    se = (0.6 * 0.4 / 50) ** 0.5
    assert abs((small["ci95"][1] - small["ci95"][0]) - 2 * 1.96 * se) < 0.05
    assert rate(0, 0, rng) == {"rate": None, "ci95": None, "n": 0}


def test_metrics_repeat_exactly_for_a_seed():
    samples = [sample([v("r1", "pass" if i % 3 else "fail"), v("r2", "pass", "llm:m")]) for i in range(40)]
    assert quality(samples, seed=1) == quality(samples, seed=1)
