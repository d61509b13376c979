"""The held-out benchmark and the rule-free (bleed) prompts, and the checks that training never saw
them: instructions, system prompts, end phrases, keywords, roles and rule wordings."""

import random

from rnr_core.errors import RnrError
from rnr_core.experiment import pools, prompts
from rnr_core.rules import render_system_prompt

# The rule-free prompts carry one free-form rule: a frozen item needs a rule, and this one asks for
# nothing a checker could see, so any rule format in the answer came from training.
PLAIN_RULE = {"id": "r1", "text": "Answer the question helpfully.", "category": "content"}


def benchmark_lines(records: list[dict], cfg) -> list[dict]:
    """One benchmark line per held-out instruction: a held-out role and 1-2 held-out-worded rules."""
    rng = random.Random(cfg.seed + 1)
    data = cfg.data
    lines = []
    for rec in records[: cfg.benchmark["items"]]:
        n = rng.randint(data["rules_min"], data["rules_max"])
        rules = prompts.draw_rules(rng, list(data["kinds"]), n, "heldout", cfg.seed)
        system = render_system_prompt(pools.role(rng, "heldout"), rules)
        lines.append({"messages": _turns(system, rec["instruction"]), "rules": rules})
    return lines


def bleed_lines(records: list[dict], cfg) -> list[dict]:
    """Rule-free prompts: held-out instructions under the plain system prompt."""
    return [
        {"messages": _turns(pools.PLAIN_SYSTEM, rec["instruction"]), "rules": [PLAIN_RULE]}
        for rec in records[: cfg.benchmark["bleed"]]
    ]


def _turns(system: str, instruction: str) -> list[dict]:
    return [{"role": "system", "content": system}, {"role": "user", "content": instruction}]


def _settings(rule: dict) -> set[str]:
    """The open-ended settings a model could memorise: end phrases and keywords."""
    kwargs = rule.get("kwargs") or {}
    return {kwargs["end_phrase"]} if "end_phrase" in kwargs else set(kwargs.get("keywords", []))


def leaks(train_rows: list[dict], bench: list[dict]) -> dict[str, list[str]]:
    """What of the benchmark appears in training: instructions, system prompts, settings, wordings."""
    seen = {
        "instruction": {r["messages"][1]["content"] for r in train_rows},
        "system_prompt": {r["messages"][0]["content"] for r in train_rows},
        "setting": {s for r in train_rows for rule in r["rules"] for s in _settings(rule)},
        "wording": {_wording(rule) for r in train_rows for rule in r["rules"]},
    }
    found: dict[str, list[str]] = {k: [] for k in seen}
    for line in bench:
        system, instruction = line["messages"][0]["content"], line["messages"][1]["content"]
        found["instruction"] += [instruction] if instruction in seen["instruction"] else []
        found["system_prompt"] += [system] if system in seen["system_prompt"] else []
        for rule in line["rules"]:
            found["setting"] += sorted(_settings(rule) & seen["setting"])
            if rule.get("kind") and _wording(rule) in seen["wording"]:
                found["wording"].append(rule["text"])
    return found


def _wording(rule: dict) -> str:
    """The rule's text with its settings blanked, so two rules worded alike compare equal."""
    text = rule["text"]
    for value in _settings(rule):
        text = text.replace(value, "…")
    return text


def assert_disjoint(train_rows: list[dict], bench: list[dict]) -> dict[str, int]:
    """Raise when anything held out reached training; else the (zero) counts per check."""
    found = leaks(train_rows, bench)
    bad = {k: v for k, v in found.items() if v}
    if bad:
        kind, values = next(iter(bad.items()))
        raise RnrError(
            f"The held-out benchmark leaks into training: {len(values)} shared {kind}(s), e.g. "
            f"{values[0][:80]!r}. Change [run] seed or [data] ratios and rerun."
        )
    return {k: 0 for k in found}
