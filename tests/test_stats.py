"""Pass-rate metrics: deciding verdicts, sample outcomes and bootstrap intervals."""

from datetime import datetime, timedelta

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from rnr_core.stats import (
    MIN_LABELS,
    UNTRUSTED_JUDGE,
    agreement,
    effective_verdict,
    judge_calibration,
    kappa_from_counts,
    paired_difference,
    quality,
    rate,
    wilson,
)

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


def paired(both, a_only, b_only, neither):
    """Per-item outcomes of models a and b from the four cells of a paired 2x2 table."""
    cells = [(True, True)] * both + [(True, False)] * a_only + [(False, True)] * b_only
    cells += [(False, False)] * neither
    return [x for x, _ in cells], [y for _, y in cells]


def test_mcnemar_exact_on_the_textbook_table():
    # Airway hyper-responsiveness in 21 children before and after stem cell transplantation (Bentur et
    # al. 2009, as analysed by Fagerland, Lydersen and Laake 2013, BMC Med Res Methodol 13:91): 1 child
    # yes/yes, 1 yes/no, 7 no/yes, 12 no/no. Exact conditional p = 0.070 = 2 * P(X <= 1 | X ~ Bin(8, 1/2)).
    d = paired(1, 1, 7, 12)
    got = paired_difference(*d)
    assert (got["n"], got["a_only"], got["b_only"]) == (21, 1, 7)
    assert got["mcnemar_p"] == pytest.approx(18 / 256) and round(got["mcnemar_p"], 3) == 0.070
    assert got["diff"] == pytest.approx(-6 / 21)


def test_paired_difference_by_hand():
    a = [True, True, True, False, False, True, False, True]
    b = [True, False, False, False, True, True, False, False]
    got = paired_difference(a, b)
    assert (got["diff"], got["a_only"], got["b_only"], got["n"]) == (0.25, 3, 1, 8)
    assert got["mcnemar_p"] == pytest.approx(2 * 5 / 16)  # 3 of 4 discordant: 2 * P(X >= 3 | Bin(4, 1/2))
    low, high = got["ci95"]
    assert -1 <= low <= 0.25 <= high <= 1
    assert paired_difference(a, b, seed=0) == got
    same = paired_difference(a, a)
    assert (same["diff"], same["ci95"], same["mcnemar_p"]) == (0.0, [0.0, 0.0], 1.0)
    empty = paired_difference([], [])
    assert (empty["diff"], empty["ci95"], empty["mcnemar_p"], empty["n"]) == (None, None, None, 0)
    with pytest.raises(ValueError, match="differ in length"):
        paired_difference([True], [])
    with pytest.raises(ValueError, match=r"b\[1\] is None: outcomes must be True or False; leave items"):
        paired_difference([True, False], [True, None])


def test_paired_bootstrap_interval_has_the_paired_standard_error():
    # 200 items, 30 won only by a and 10 only by b: se = sqrt((p10 + p01 - (p10 - p01)^2) / n)
    got = paired_difference(*paired(100, 30, 10, 60))
    se = ((0.15 + 0.05 - 0.1**2) / 200) ** 0.5
    low, high = got["ci95"]
    assert got["diff"] == pytest.approx(0.1) and low < 0.1 < high
    assert high - low == pytest.approx(2 * 1.96 * se, abs=0.015)
    # ignoring the pairing (two independent proportions) would give a far wider interval
    assert high - low < 2 * 1.96 * ((0.65 * 0.35 + 0.55 * 0.45) / 200) ** 0.5 * 0.75


def calibration_rows(category, both_pass, checker_pass_llm_fail, checker_fail_llm_pass, both_fail):
    human, machine = table(both_pass, checker_pass_llm_fail, checker_fail_llm_pass, both_fail)
    return [(category, h, m) for h, m in zip(human, machine)]


def test_judge_calibration_by_hand_warns_below_the_floor():
    # format agrees throughout (kappa 1); length: p_o = 0.5, p_e = 0.5 * 2/3 + 0.5 * 1/3 = 0.5, kappa 0;
    # together they make the textbook table (20, 5, 10, 15), kappa 0.4.
    rows = calibration_rows("format", 10, 0, 0, 10) + calibration_rows("length", 10, 5, 10, 5)
    rows += [("length", "pass", "unknown")]  # a judge reply that never parsed says nothing
    cal = judge_calibration(rows)
    assert cal["overall"]["kappa"] == pytest.approx(0.4) and cal["overall"]["n"] == 50
    assert cal["by_category"]["format"]["kappa"] == 1.0
    assert cal["by_category"]["length"]["kappa"] == pytest.approx(0.0)
    assert cal["by_category"]["length"]["accuracy"] == 0.5
    assert cal["trusted"] is False and cal["skipped"] == 1
    assert cal["warning"] == UNTRUSTED_JUDGE and cal["untrusted_categories"] == ["length"]
    for a in cal["by_category"].values():  # every category's kappa has its interval, low to high
        low, high = a["kappa_ci95"]
        assert -1 <= low <= a["kappa"] <= high <= 1
    assert (
        UNTRUSTED_JUDGE
        == "This judge disagrees with code on checkable rules; don't trust it on free-form ones."
    )


def test_judge_calibration_trusts_a_good_judge_and_says_nothing_on_few_rows():
    good = judge_calibration(calibration_rows("format", 16, 4, 4, 16))  # kappa 0.6, at the floor
    assert (good["trusted"], good["warning"], good["untrusted_categories"]) == (True, None, [])
    # a good judge overall can still be poor on one category: it is named
    mixed = judge_calibration(
        calibration_rows("format", 40, 0, 0, 40) + calibration_rows("length", 10, 5, 10, 5)
    )
    assert (mixed["trusted"], mixed["warning"], mixed["untrusted_categories"]) == (True, None, ["length"])
    few = judge_calibration(calibration_rows("format", 2, 3, 3, 1))
    assert few["overall"]["kappa"] < 0.6 and (few["trusted"], few["warning"]) == (None, None)
    none = judge_calibration([])
    assert (none["overall"]["n"], none["by_category"], none["trusted"], none["warning"]) == (
        0,
        {},
        None,
        None,
    )


def test_agreement_gives_accuracy_a_bootstrap_interval_around_it():
    human = ["pass"] * 30 + ["fail"] * 30
    machine = ["pass"] * 24 + ["fail"] * 6 + ["fail"] * 24 + ["pass"] * 6  # 48 of 60 agree
    result = agreement(human, machine)
    low, high = result["accuracy_ci95"]
    assert result["accuracy"] == pytest.approx(0.8) and low < 0.8 < high
    # the binomial standard error of 0.8 over 60 pairs is about 0.052: a 95% interval about 0.2 wide
    assert 0.14 < high - low < 0.26
    assert agreement(["pass"] * 10, ["pass"] * 10)["accuracy_ci95"] == [1.0, 1.0]
    assert agreement(["pass"], ["fail"])["accuracy_ci95"] is None  # one pair: no interval
