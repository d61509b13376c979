"""Training rows from a source (registry): recycled reference answers edited by the fixers, or the
embedded model's own answers kept by rejection sampling, optionally revised with the failed rules.

Every kept row passes all its rules' checkers. Each row carries its control twin: the same
instruction and role, no rule text, and the original (trimmed, unedited) reference answer.
"""

import random

from rnr_core.experiment import pools, prompts
from rnr_core.experiment.sources import trim
from rnr_core.rules import render_system_prompt
from rnr_core.rules.sampling import check_rules

SOURCES: dict[str, object] = {}


def source(name: str):
    def register(fn):
        SOURCES[name] = fn
        return fn

    return register


def _messages(system: str, instruction: str, response: str) -> list[dict]:
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": instruction},
        {"role": "assistant", "content": response},
    ]


def _row(rec: dict, role: str, rules: list[dict], response: str, original: str, provenance: dict) -> dict:
    system = render_system_prompt(role, rules)
    return {
        "messages": _messages(system, rec["instruction"], response),
        "control": _messages(role, rec["instruction"], original),
        "rules": rules,
        "instruction": rec["instruction"],
        "provenance": provenance,
    }


def _draw(rng: random.Random, cfg) -> tuple[str, list[dict]]:
    role = pools.role(rng, "train")
    n = rng.randint(cfg.rules_min, cfg.rules_max)
    return role, prompts.draw_rules(rng, list(cfg.kinds), n, "train", cfg.seed)


@source("recycled")
async def recycled(records: list[dict], cfg, model=None) -> tuple[list[dict], dict]:
    """Reference answers, trimmed to `max_words` BEFORE the edits, then mechanically fixed."""
    from rnr_core.rules.fixes import fix_response

    rng = random.Random(cfg.seed)
    rows, tried = [], 0
    for rec in records:
        if len(rows) >= cfg.samples:
            break
        original = trim(rec["output"], cfg.max_words)
        if not original:
            continue
        tried += 1
        role, rules = _draw(rng, cfg)
        response, fixes = fix_response(rules, original)
        if not all(check_rules(rules, response).values()):
            continue
        provenance = {"source": "recycled", "revisions": 0, "fixes": fixes}
        rows.append(_row(rec, role, rules, response, original, provenance))
    return rows, {"tried": tried, "kept": len(rows)}
