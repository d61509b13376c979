"""Pass rates of an evaluation from its stored verdicts: all rules, verifiable rules alone, IFEval's
strict and loose numbers, per rule kind and category, and how far the LLM judge agrees with code."""

import json
from itertools import combinations

import numpy as np

from rnr_core.errors import NotFound
from rnr_core.evaluate.benchmark import load
from rnr_core.judge import llm
from rnr_core.rules.checking import CHECKER
from rnr_core.stats import FREE_FORM, judge_calibration, paired_difference, rate

DECIDED = ("pass", "fail")
FAILURES_SHOWN = 10


def eval_report(store, benchmark: str, model: str, judge=..., seed: int = 0) -> dict:
    """The report of the latest evaluation of `model` on `benchmark` (the latest judged one, if any);
    `judge` is a spec whose verdicts
    decide free-form rules (None: checkers only; left out: the judge the evaluation last ran with)."""
    bench = load(store, benchmark)
    row = store.latest_eval(bench["id"], model)
    if row is None:
        raise NotFound(
            f"No evaluation of {model!r} on benchmark {benchmark!r}. "
            f"Run 'rnr eval --benchmark {benchmark} --model {model}' first."
        )
    name = row["judge"] if judge is ... else (llm.judge_name(judge) if judge else None)
    return report_with_outcomes(store, bench, row["id"], bench["items"], name, seed)[0]


def evals(store, benchmark: str | None = None) -> list[dict]:
    """Stored evaluations, judged ones first, newest first within each: benchmark, model, judge, params,
    status and answer counts."""
    bench_id = load(store, benchmark)["id"] if benchmark else None
    rows = store.list_evals(bench_id)
    for r in rows:
        r["params"] = json.loads(r["params"])
        r["pending"] = r["items"] - r["answered"] - r["failed"]
    return rows


class _Verdicts:
    """One evaluation's stored answers and verdicts, looked up by item and rule."""

    def __init__(self, store, eval_id: str, judge_name: str | None):
        self.responses = store.eval_responses(eval_id)
        self.checker: dict[tuple, str] = {}
        self.llm: dict[tuple, str] = {}
        self.judge_errors: dict[str, dict] = {}  # item key -> why the judge gave no usable reply
        for v in store.eval_verdicts(eval_id):
            if v["judge"] == CHECKER:
                self.checker[(v["item_key"], v["rule_id"], v["mode"])] = v["verdict"]
            elif v["judge"] == judge_name:
                self.llm[(v["item_key"], v["rule_id"])] = v["verdict"]
                if v["verdict"] not in DECIDED:
                    self.judge_errors[v["item_key"]] = {
                        "item_key": v["item_key"],
                        "error": v["rationale"],
                        "raw_output": v["raw_output"],
                    }

    def status(self, key: str) -> str:
        row = self.responses.get(key)
        return row["status"] if row else "pending"

    def deciding(self, key: str, rule: dict) -> str | None:
        """The checker's strict verdict on a verifiable rule, the LLM judge's on a free-form one."""
        if rule.get("kind"):
            return self.checker.get((key, rule["id"], "strict"))
        verdict = self.llm.get((key, rule["id"]))
        return verdict if verdict in DECIDED else None

    def outcome(self, item: dict) -> str:
        """pass when every rule passes; an answer that failed is 'failed'; any rule without a pass/fail
        leaves the item 'unjudged' (never a pass, and not a fail either: an item that broke a checked rule
        while its free-form rules wait would count every known fail and drop every would-be pass, biasing
        the rate down)."""
        key = item["item_key"]
        if self.status(key) != "done":
            return self.status(key)
        verdicts = [self.deciding(key, r) for r in item["rules"]]
        if None in verdicts or not verdicts:
            return "unjudged"
        return "pass" if all(v == "pass" for v in verdicts) else "fail"

    def fails_checked_rule(self, item: dict) -> bool:
        """True when the checker failed one of the item's verifiable rules (strict)."""
        return any(self.deciding(item["item_key"], r) == "fail" for r in item["rules"] if r.get("kind"))


def report_with_outcomes(
    store, bench: dict, eval_id: str, items: list[dict], judge_name: str | None, seed: int = 0
) -> tuple[dict, dict[str, str]]:
    """The report and each item's outcome (for paired differences), from one read of the verdicts."""
    row, found = store.get_eval(eval_id), _Verdicts(store, eval_id, judge_name)
    rng = np.random.default_rng(seed)
    outcomes = [found.outcome(it) for it in items]
    answered = [it for it, o in zip(items, outcomes) if o not in ("failed", "pending")]
    decided = [o for o in outcomes if o in DECIDED]
    calibration = _calibration(found, answered) if judge_name else None
    trusted = calibration["trusted"] if calibration else None
    free_form_used = any(
        not r.get("kind") for it, o in zip(items, outcomes) if o in DECIDED for r in it["rules"]
    )
    report = {
        "benchmark": bench["name"],
        "model": row["model"],
        "eval_id": eval_id,
        "judge": judge_name,
        "params": json.loads(row["params"]),
        "status": row["status"],
        "items": len(items),
        "answered": len(answered),
        "failed": outcomes.count("failed"),
        "pending": outcomes.count("pending"),
        "unjudged": outcomes.count("unjudged"),
        "fails_checked_rule_unjudged": sum(
            o == "unjudged" and found.fails_checked_rule(it) for it, o in zip(items, outcomes)
        ),
        "failures": _failures(found, items),
        **_judge_failures(found, answered),
        "pass_rate": rate(decided.count("pass"), len(decided), rng),
        "verifiable_pass_rate": _verifiable(found, answered, rng),
        "ifeval": _ifeval(found, answered, rng),
        **_groups(found, answered, rng),
        "calibration": calibration,
        "judge_trusted": trusted,
        "rests_on_untrusted_judge": trusted is False and free_form_used,
        # too few checkable rules judged by both to tell: the rate rests on a judge nobody has measured
        "rests_on_uncalibrated_judge": trusted is None and free_form_used,
    }
    return report, {it["item_key"]: o for it, o in zip(items, outcomes)}


def _failures(found: _Verdicts, items: list[dict]) -> list[dict]:
    """The first failed answers, with why and what the model sent back."""
    rows = [found.responses[it["item_key"]] for it in items if found.status(it["item_key"]) == "failed"]
    return [{k: r[k] for k in ("item_key", "error", "raw_output", "attempts")} for r in rows[:FAILURES_SHOWN]]


def _judge_failures(found: _Verdicts, answered: list[dict]) -> dict:
    """Answers the judge never gave a usable reply on (counted; a rerun asks again), the first few with
    its error and raw reply."""
    rows = [found.judge_errors[it["item_key"]] for it in answered if it["item_key"] in found.judge_errors]
    return {"judge_failures": len(rows), "judge_errors": rows[:FAILURES_SHOWN]}


def _verifiable(found: _Verdicts, answered: list[dict], rng) -> dict:
    """Pass rate over verifiable rules alone (checker, strict): it needs no judge."""
    outcomes = []
    for it in answered:
        verdicts = [found.deciding(it["item_key"], r) for r in it["rules"] if r.get("kind")]
        if verdicts and None not in verdicts:
            outcomes.append(all(v == "pass" for v in verdicts))
    return rate(sum(outcomes), len(outcomes), rng)


def _ifeval(found: _Verdicts, answered: list[dict], rng) -> dict:
    """IFEval's prompt-level and instruction-level accuracy, strict and loose, over verifiable rules."""
    result = {}
    for mode in ("strict", "loose"):
        prompts, rules = [], []
        for it in answered:
            verdicts = [
                found.checker.get((it["item_key"], r["id"], mode)) for r in it["rules"] if r.get("kind")
            ]
            if verdicts and None not in verdicts:
                prompts.append(all(v == "pass" for v in verdicts))
                rules.extend(v == "pass" for v in verdicts)
        result[mode] = {
            "prompt_level": rate(sum(prompts), len(prompts), rng),
            "instruction_level": rate(sum(rules), len(rules), rng),
        }
    return result


def _groups(found: _Verdicts, answered: list[dict], rng) -> dict:
    """Share of rules followed per rule kind and per category, over rules with a pass/fail."""
    groups: dict[str, dict[str, list[bool]]] = {"by_kind": {}, "by_category": {}}
    for it in answered:
        for rule in it["rules"]:
            verdict = found.deciding(it["item_key"], rule)
            if verdict in DECIDED:
                for field, key in (
                    ("by_kind", rule.get("kind") or FREE_FORM),
                    ("by_category", rule["category"]),
                ):
                    groups[field].setdefault(key, []).append(verdict == "pass")
    return {f: {k: rate(sum(v), len(v), rng) for k, v in sorted(g.items())} for f, g in groups.items()}


def _calibration(found: _Verdicts, answered: list[dict]) -> dict:
    """The LLM judge against the checkers on the verifiable rules it also judged."""
    rows = [
        (
            r["category"],
            found.checker.get((it["item_key"], r["id"], "strict")),
            found.llm.get((it["item_key"], r["id"])),
        )
        for it in answered
        for r in it["rules"]
        if r.get("kind") and (it["item_key"], r["id"]) in found.llm
    ]
    return judge_calibration(rows)


def differences(outcomes: dict[str, dict[str, str]]) -> list[dict]:
    """Paired pass-rate difference for each pair of models, over the items fully judged for both (every
    rule with a pass/fail), the same items each model's headline pass rate is computed over."""
    rows = []
    for a, b in combinations(outcomes, 2):
        keys = [k for k, v in outcomes[a].items() if v in DECIDED and outcomes[b].get(k) in DECIDED]
        first = [outcomes[a][k] == "pass" for k in keys]
        second = [outcomes[b][k] == "pass" for k in keys]
        rows.append({"model_a": a, "model_b": b, **paired_difference(first, second)})
    return rows
