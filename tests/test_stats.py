"""Pass-rate metrics: deciding verdicts, sample outcomes and bootstrap intervals."""

from datetime import datetime, timedelta

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from rnr_core.stats import MIN_LABELS, agreement, effective_verdict, kappa_from_counts, quality, rate, wilson

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


def table(both_pass, h_pass_m_fail, h_fail_m_pass, both_fail):
    """Paired human and machine labels from the four cells of a 2x2 table."""
    cells = [("pass", "pass")] * both_pass + [("pass", "fail")] * h_pass_m_fail
    cells += [("fail", "pass")] * h_fail_m_pass + [("fail", "fail")] * both_fail
    return [h for h, _ in cells], [m for _, m in cells]


def test_kappa_of_the_textbook_table_is_0_4_with_a_ci_around_it():
    # 50 items: p_o = 35/50 = 0.7, p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.5, so kappa = (0.7 - 0.5) / 0.5 = 0.4
    a = agreement(*table(20, 5, 10, 15))
    assert a["n"] == 50 and a["accuracy"] == pytest.approx(0.7) and a["kappa"] == pytest.approx(0.4)
    assert a["confusion"] == [[20, 5], [10, 15]] and a["labels"] == ["pass", "fail"]
    assert a["trustworthy"] is False
    low, high = a["kappa_ci95"]
    assert -1 <= low < 0.4 < high <= 1
    # about +-1.96 large-sample standard errors, sqrt(p_o (1 - p_o) / (n (1 - p_e)^2))
    se = (0.7 * 0.3 / (50 * 0.5**2)) ** 0.5
    assert abs((high - low) - 2 * 1.96 * se) < 0.1
    assert agreement(*table(20, 5, 10, 15), seed=0) == a
    assert agreement(*table(20, 5, 10, 15), seed=1)["kappa_ci95"] != a["kappa_ci95"]


def test_perfect_agreement_is_kappa_1_and_trustworthy():
    a = agreement(*table(12, 0, 0, 8))
    assert (a["accuracy"], a["kappa"], a["trustworthy"]) == (1.0, 1.0, True)
    assert a["kappa_ci95"] == [1.0, 1.0]  # resamples with one label only have no kappa and are left out


def test_kappa_at_the_floor_is_trustworthy_and_just_below_is_not():
    # 40 items, balanced margins: kappa = 2 * p_o - 1, so p_o = 0.8 gives 0.6 and 0.775 gives 0.55
    assert agreement(*table(16, 4, 4, 16))["kappa"] == pytest.approx(0.6)
    assert agreement(*table(16, 4, 4, 16))["trustworthy"] is True
    assert agreement(*table(31, 9, 9, 31))["trustworthy"] is False


def test_one_shared_label_has_no_kappa_and_no_verdict_on_trust():
    a = agreement(["pass"] * 6, ["pass"] * 6)
    assert (a["accuracy"], a["kappa"], a["kappa_ci95"], a["trustworthy"]) == (1.0, None, None, None)
    assert a["confusion"] == [[6, 0], [0, 0]]


def test_empty_and_single_pairs():
    empty = agreement([], [])
    assert (empty["n"], empty["accuracy"], empty["kappa"], empty["trustworthy"]) == (0, None, None, None)
    assert empty["confusion"] == [[0, 0], [0, 0]]
    one = agreement(["pass"], ["fail"])
    assert (one["n"], one["accuracy"], one["kappa"], one["kappa_ci95"]) == (1, 0.0, 0.0, None)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="differ in length"):
        agreement(["pass"], [])
    with pytest.raises(ValueError, match="pass or fail.*unknown"):
        agreement(["pass"], ["unknown"])


@pytest.mark.parametrize("seed", range(5))
def test_kappa_from_counts_is_sklearns(seed):
    rng = np.random.default_rng(seed)
    cells = rng.integers(0, 15, size=4)
    human, machine = table(*cells)
    got = kappa_from_counts(cells)[0]
    if len(set(human + machine)) > 1:
        assert got == pytest.approx(cohen_kappa_score(human, machine, labels=["pass", "fail"]))
    else:
        assert np.isnan(got)


def test_wilson_interval_is_the_closed_form():
    z, n, p = 1.959963984540054, 10, 0.8
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * (p * (1 - p) / n + z**2 / (4 * n**2)) ** 0.5 / (1 + z**2 / n)
    assert wilson(8, 10) == pytest.approx((centre - half, centre + half))
    assert wilson(8, 10) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == 1.0
    assert wilson(0, 0) == (None, None)


def test_trust_needs_min_labels_pairs_whatever_the_kappa():
    # One disagreeing pair has kappa 0, and nine agreeing ones kappa 1: neither says anything yet.
    assert agreement(["pass"], ["fail"])["trustworthy"] is None
    assert agreement(*table(5, 0, 0, MIN_LABELS - 6))["trustworthy"] is None
    assert agreement(*table(5, 0, 0, MIN_LABELS - 5))["trustworthy"] is True
    assert agreement(*table(3, 3, 2, MIN_LABELS - 8))["trustworthy"] is False
