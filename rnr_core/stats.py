"""Pass-rate metrics from per-rule verdicts, agreement of judges and people, with bootstrap 95%
confidence intervals (pure)."""

import numpy as np

# Which judge decides a rule when several have spoken: an adjudicator (who settles a disagreement between
# people), a person, then code, then an LLM. Among judges of one rank the latest decides: so when people
# disagree and nobody has adjudicated yet, the latest person's label stands (as it did before several
# people could label one rule) and the disagreement waits in the adjudicator's queue.
PRECEDENCE = ("adjudicator:", "human:", "checker", "llm:")
FREE_FORM = "free-form"


def _rank(judge: str) -> int:
    return next((i for i, p in enumerate(PRECEDENCE) if judge.startswith(p)), len(PRECEDENCE))


def effective_verdict(verdicts: list[dict]) -> str | None:
    """The deciding verdict on one rule: highest-precedence judge, latest first; None if unjudged.

    Stale verdicts (given before the sample was edited) count as absent.
    """
    verdicts = [v for v in verdicts if not v.get("stale")]
    usable = [v for v in verdicts if v["verdict"] in ("pass", "fail")]
    if not usable:
        return "unknown" if verdicts else None
    return max(usable, key=lambda v: (-_rank(v["judge"]), v["created_at"]))["verdict"]


def rule_outcomes(sample: dict) -> list[tuple[dict, str | None]]:
    """(rule, deciding verdict) for each rule of a sample."""
    by_rule: dict[str, list[dict]] = {}
    for v in sample["verdicts"]:
        by_rule.setdefault(v["rule_id"], []).append(v)
    return [(r, effective_verdict(by_rule.get(r["id"], []))) for r in sample["rules"]]


def sample_outcome(outcomes: list[tuple[dict, str | None]]) -> str:
    """pass when every rule passes, fail when any fails, else unjudged."""
    verdicts = [v for _, v in outcomes]
    if "fail" in verdicts:
        return "fail"
    return "pass" if verdicts and all(v == "pass" for v in verdicts) else "unjudged"


def with_outcomes(samples: list[dict]) -> list[dict]:
    """Set `outcome` on samples that carry their verdicts: pass, fail or unjudged."""
    for s in samples:
        s["outcome"] = sample_outcome(rule_outcomes(s))
    return samples


def rate(passes: int, n: int, rng: np.random.Generator, n_boot: int = 2000) -> dict:
    """Share with a percentile bootstrap CI (resampling n binary outcomes is a binomial draw)."""
    if n == 0:
        return {"rate": None, "ci95": None, "n": 0}
    p = passes / n
    return {"rate": p, "ci95": percentile_ci(rng.binomial(n, p, size=n_boot) / n), "n": n}


def quality(samples: list[dict], seed: int = 0) -> dict:
    """Pass rate over judged samples, and per rule kind and category over judged rules."""
    rng = np.random.default_rng(seed)
    outcomes = [rule_outcomes(s) for s in samples]
    per_sample = [sample_outcome(o) for o in outcomes]
    groups: dict[str, dict[str, list[int]]] = {"kind": {}, "category": {}}
    for rule, verdict in (pair for o in outcomes for pair in o):
        if verdict in ("pass", "fail"):
            for field, key in (("kind", rule.get("kind") or FREE_FORM), ("category", rule["category"])):
                groups[field].setdefault(key, []).append(verdict == "pass")
    judged = [o for o in per_sample if o != "unjudged"]
    return {
        "samples": len(samples),
        "judged_samples": len(judged),
        "unjudged_samples": len(per_sample) - len(judged),
        "pass_rate": rate(judged.count("pass"), len(judged), rng),
        "by_kind": {k: rate(sum(v), len(v), rng) for k, v in sorted(groups["kind"].items())},
        "by_category": {k: rate(sum(v), len(v), rng) for k, v in sorted(groups["category"].items())},
    }


# Below this Cohen's kappa a judge is not trusted for a category (a common "substantial agreement" line).
KAPPA_FLOOR = 0.6
# Fewer label pairs than this say nothing either way about trust: one label gives kappa 0 or 1 by chance.
MIN_LABELS = 10
LABELS = ["pass", "fail"]


def wilson(passes: int, n: int) -> tuple[float | None, float | None]:
    """Wilson 95% interval of a pass share; (None, None) when nothing was counted."""
    if n == 0:
        return None, None
    from scipy.stats import binomtest  # scipy loads in ~0.5 s; only callers of this function pay it

    ci = binomtest(passes, n).proportion_ci(confidence_level=0.95, method="wilson")
    return float(ci.low), float(ci.high)


def kappa_from_counts(counts: np.ndarray) -> np.ndarray:
    """Cohen's kappa of 2x2 tables given as rows [both pass, h pass m fail, h fail m pass, both fail];
    NaN where both raters gave one and the same label throughout (chance agreement is 1)."""
    counts = np.atleast_2d(counts).astype(float)
    n = counts.sum(axis=1)
    p_o = (counts[:, 0] + counts[:, 3]) / n
    h_pass, m_pass = (counts[:, 0] + counts[:, 1]) / n, (counts[:, 0] + counts[:, 2]) / n
    p_e = h_pass * m_pass + (1 - h_pass) * (1 - m_pass)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p_e < 1, (p_o - p_e) / (1 - p_e), np.nan)


def _cell_draws(codes: np.ndarray, seed: int, n_boot: int) -> np.ndarray:
    """Bootstrap resamples of (human, machine) pairs as counts of the four cells, one row per draw.

    Kappa and accuracy depend only on the cell counts, so a resample of the pairs is a multinomial draw
    over the cells: the same distribution, without drawing n_boot x n indices on a large store.
    """
    rng = np.random.default_rng(seed)
    cells = np.bincount(codes, minlength=4)
    return rng.multinomial(len(codes), cells / len(codes), size=n_boot)


def _kappa_ci(draws: np.ndarray) -> list[float] | None:
    """Percentile bootstrap 95% CI of kappa over cell-count draws; a draw where both raters are constant
    and equal has no kappa and is left out, and with no usable draw there is no interval."""
    return percentile_ci(kappa_from_counts(draws))


def _accuracy_ci(draws: np.ndarray) -> list[float]:
    """Percentile bootstrap 95% CI of the share of pairs that agree (cells both pass, both fail)."""
    return percentile_ci((draws[:, 0] + draws[:, 3]) / draws.sum(axis=1))


def agreement(human: list[str], machine: list[str], seed: int = 0, n_boot: int = 1000) -> dict:
    """Agreement of a machine judge with human labels (pass/fail, paired by position).

    `confusion` rows are the human label and columns the judge's, both in LABELS order:
    [[human pass & judge pass, human pass & judge fail], [human fail & judge pass, human fail & judge fail]].
    `kappa` is None when undefined (both gave one and the same label throughout); `trustworthy` is
    kappa >= KAPPA_FLOOR, None when there is no kappa or fewer than MIN_LABELS pairs.
    """
    if len(human) != len(machine):
        raise ValueError(f"human and machine labels differ in length ({len(human)} vs {len(machine)})")
    bad = sorted((set(human) | set(machine)) - set(LABELS))
    if bad:
        raise ValueError(f"labels must be pass or fail, got {bad}")
    from sklearn.metrics import cohen_kappa_score, confusion_matrix  # slow import, kept off the CLI path

    n = len(human)
    # As codes (LABELS' positions): sklearn is ten times faster on integers than on strings, which
    # matters for a calibration over every verifiable rule of a large store.
    h = np.array([x == "fail" for x in human], dtype=int)
    m = np.array([x == "fail" for x in machine], dtype=int)
    codes = list(range(len(LABELS)))
    defined = len(set(h) | set(m)) > 1
    kappa = float(cohen_kappa_score(h, m, labels=codes)) if defined else None
    draws = _cell_draws(2 * h + m, seed, n_boot) if n >= 2 else None  # one pair gives no interval
    return {
        "n": n,
        "accuracy": float(np.mean(h == m)) if n else None,
        "accuracy_ci95": _accuracy_ci(draws) if draws is not None else None,
        "kappa": kappa,
        "kappa_ci95": _kappa_ci(draws) if defined and draws is not None else None,
        "confusion": confusion_matrix(h, m, labels=codes).tolist() if n else [[0, 0], [0, 0]],
        "labels": list(LABELS),
        "trustworthy": None if kappa is None or n < MIN_LABELS else kappa >= KAPPA_FLOOR,
    }


def _kappa_of_tables(tables: np.ndarray) -> np.ndarray:
    """Cohen's kappa of each k x k table (rater one's label by rater two's) in a stack; NaN if undefined."""
    n = tables.sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        p_o = np.trace(tables, axis1=1, axis2=2) / n
        p_e = (tables.sum(axis=2) * tables.sum(axis=1)).sum(axis=1) / n**2
        return np.where(p_e < 1, (p_o - p_e) / (1 - p_e), np.nan)


def percentile_ci(draws: np.ndarray) -> list[float] | None:
    """The 2.5th and 97.5th percentiles of the defined draws; None without any."""
    draws = draws[np.isfinite(draws)]
    if not len(draws):
        return None
    low, high = np.percentile(draws, [2.5, 97.5])
    return [float(low), float(high)]


def _cohen(items: list[dict], raters: list[str], values: list, rng, n_boot: int) -> tuple[float, list | None]:
    """Cohen's kappa of the two raters over the items (sklearn), with a bootstrap CI over items."""
    from sklearn.metrics import cohen_kappa_score  # slow import, kept off the CLI path

    first, second = ([i[r] for i in items] for r in raters)
    kappa = float(cohen_kappa_score(first, second, labels=values))
    codes = np.array([values.index(a) * len(values) + values.index(b) for a, b in zip(first, second)])
    draws = codes[rng.integers(0, len(codes), size=(n_boot, len(codes)))]
    cells = np.stack([(draws == c).sum(axis=1) for c in range(len(values) ** 2)], axis=1)
    return kappa, percentile_ci(_kappa_of_tables(cells.reshape(n_boot, len(values), len(values))))


def _alpha(items: list[dict], values: list, rng, n_boot: int) -> tuple[float, list | None]:
    """Krippendorff's alpha (nominal) over the items (`krippendorff`), with a bootstrap CI over items."""
    import krippendorff

    counts = np.array([[sum(v == value for v in i.values()) for value in values] for i in items])

    def alpha(rows: np.ndarray) -> float:
        return krippendorff.alpha(value_counts=rows, value_domain=values, level_of_measurement="nominal")

    with np.errstate(divide="ignore", invalid="ignore"):  # a draw where everyone agrees on one value
        draws = [alpha(counts[rng.integers(0, len(counts), size=len(counts))]) for _ in range(n_boot)]
    return float(alpha(counts)), percentile_ci(np.array(draws, dtype=float))


def human_agreement(items: list[dict], seed: int = 0, n_boot: int = 1000) -> dict:
    """How much people agree with each other, from items each given as {person: label} (nominal labels).

    Items with fewer than two labels show no agreement and are left out. Cohen's kappa when the same two
    people labelled every item; Krippendorff's alpha (nominal) otherwise (more people per item, or
    different people on different items: alpha allows missing labels). Each with a percentile bootstrap
    95% CI over items, seeded. `value` is None where undefined (one and the same label throughout) or
    with no items; `enough` is whether there are MIN_LABELS items or more.
    """
    items = [i for i in items if len(i) >= 2]
    raters = sorted({r for i in items for r in i})
    values = sorted({v for i in items for v in i.values()})
    result = {
        "n_items": len(items),
        "n_raters": len(raters),
        "statistic": None,
        "value": None,
        "ci95": None,
        "enough": len(items) >= MIN_LABELS,
    }
    if not items:
        return result
    paired = len(raters) == 2 and all(len(i) == 2 for i in items)
    result["statistic"] = "Cohen's kappa" if paired else "Krippendorff's alpha"
    if len(values) < 2:
        return result
    rng = np.random.default_rng(seed)
    value, ci = _cohen(items, raters, values, rng, n_boot) if paired else _alpha(items, values, rng, n_boot)
    return result | {"value": value, "ci95": ci}


def paired_difference(a: list[bool], b: list[bool], seed: int = 0, n_boot: int = 2000) -> dict:
    """Pass rate of a minus that of b on the same items, with a paired bootstrap CI and McNemar's exact test.

    Items are paired by position. The bootstrap resamples items (a and b together); since the difference
    depends only on how many items fall in each of the four (a, b) cells, a resample of n items is drawn
    as a multinomial over those cells, which is the same distribution at a fraction of the cost.
    `mcnemar_p` is the exact two-sided binomial test of a_only against b_only with p = 0.5 (1.0 when no
    item is discordant); everything is None with no items.
    """
    if len(a) != len(b):
        raise ValueError(f"paired outcomes differ in length ({len(a)} vs {len(b)}): pair them by item")
    for name, outcomes in (("a", a), ("b", b)):
        bad = next((i for i, v in enumerate(outcomes) if v not in (True, False)), None)
        if bad is not None:  # a failed item (None) must not count as a fail: leave it out of both lists
            raise ValueError(
                f"{name}[{bad}] is {outcomes[bad]!r}: outcomes must be True or False; leave "
                "items that failed for either model out of both lists"
            )
    n = len(a)
    x, y = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    a_only, b_only = int(np.sum(x & ~y)), int(np.sum(~x & y))
    result = {"diff": None, "ci95": None, "mcnemar_p": None, "n": n, "a_only": a_only, "b_only": b_only}
    if n == 0:
        return result
    from scipy.stats import binomtest  # scipy loads in ~0.5 s; only callers of this function pay it

    discordant = a_only + b_only
    cells = np.array([a_only, b_only, n - discordant]) / n
    draws = np.random.default_rng(seed).multinomial(n, cells, size=n_boot)
    return result | {
        "diff": (a_only - b_only) / n,
        "ci95": percentile_ci((draws[:, 0] - draws[:, 1]) / n),
        "mcnemar_p": float(binomtest(a_only, discordant, 0.5).pvalue) if discordant else 1.0,
    }


UNTRUSTED_JUDGE = "This judge disagrees with code on checkable rules; don't trust it on free-form ones."


def judge_calibration(rows: list[tuple[str, str, str]], seed: int = 0) -> dict:
    """How well an LLM judge agrees with the checkers, from (category, checker verdict, llm verdict) rows.

    The checker is the reference (the `human` side of `agreement`). Rows where either verdict is not
    pass or fail (an LLM reply that never parsed) are left out and counted in `skipped`. `trusted` is the
    overall `trustworthy` (None below MIN_LABELS rows or without a kappa); `warning` is set when it is
    False, i.e. kappa < KAPPA_FLOOR on enough rows. `untrusted_categories` names the categories whose own
    kappa is below the floor on enough rows, which a good overall kappa can hide.
    """
    usable = [r for r in rows if r[1] in LABELS and r[2] in LABELS]
    by_category: dict[str, tuple[list[str], list[str]]] = {}
    for category, checker, llm in usable:
        pair = by_category.setdefault(category or FREE_FORM, ([], []))
        pair[0].append(checker)
        pair[1].append(llm)
    overall = agreement([r[1] for r in usable], [r[2] for r in usable], seed=seed)
    trusted = overall["trustworthy"]
    categories = {c: agreement(h, m, seed=seed) for c, (h, m) in sorted(by_category.items())}
    return {
        "overall": overall,
        "by_category": categories,
        "untrusted_categories": [c for c, a in categories.items() if a["trustworthy"] is False],
        "trusted": trusted,
        "warning": UNTRUSTED_JUDGE if trusted is False else None,
        "skipped": len(rows) - len(usable),
    }
