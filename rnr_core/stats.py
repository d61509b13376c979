"""Pass-rate metrics from per-rule verdicts, with bootstrap 95% confidence intervals (pure)."""

import numpy as np

# Which judge decides a rule when several have spoken: a person, then code, then an LLM.
_PRECEDENCE = ("human:", "checker", "llm:")
FREE_FORM = "free-form"


def _rank(judge: str) -> int:
    return next((i for i, p in enumerate(_PRECEDENCE) if judge.startswith(p)), len(_PRECEDENCE))


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
    boot = rng.binomial(n, p, size=n_boot) / n
    low, high = np.percentile(boot, [2.5, 97.5])
    return {"rate": p, "ci95": [float(low), float(high)], "n": n}


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
