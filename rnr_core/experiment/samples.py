"""Training rows from a source (registry): recycled reference answers edited by the fixers, or the
embedded model's own answers kept by rejection sampling, optionally revised with the failed rules.

Every kept row passes all its rules' checkers. Each row carries its control twin: the same
instruction and role, no rule text, and the original (trimmed, unedited) reference answer. A `plain`
share of rows has a role and no rules at all, so the model also sees answers that carry no format.
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


def _system(role: str, rules: list[dict]) -> str:
    return render_system_prompt(role, rules) if rules else role


def _row(rec: dict, role: str, rules: list[dict], response: str, original: str, provenance: dict) -> dict:
    system = _system(role, rules)
    return {
        "messages": _messages(system, rec["instruction"], response),
        "control": _messages(role, rec["instruction"], original),
        "rules": rules,
        "instruction": rec["instruction"],
        "provenance": provenance,
    }


def _draw(rng: random.Random, cfg) -> tuple[str, list[dict]]:
    """A training role and its rules; none for a `plain` share of the rows."""
    role = pools.role(rng, "train")
    if rng.random() < cfg.plain:
        return role, []
    n = rng.randint(cfg.rules_min, cfg.rules_max)
    return role, prompts.draw_rules(rng, list(cfg.kinds), n, "train", cfg.seed)


@source("recycled")
async def recycled(records: list[dict], cfg, store=None) -> tuple[list[dict], dict]:
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
        response, fixes = fix_response(rules, original, rec["instruction"])
        if not all(check_rules(rules, response).values()):
            continue
        provenance = {"source": "recycled", "revisions": 0, "fixes": fixes}
        rows.append(_row(rec, role, rules, response, original, provenance))
    return rows, {"tried": tried, "kept": len(rows)}


REVISE = (
    "Your answer broke these rules:\n{failed}\n\nRewrite it so that it keeps every rule of the system "
    "prompt. Reply with the new answer only.\n\nYour answer:\n{answer}"
)


async def _answers(model, messages: list[dict], cfg, seeds: range) -> list[str]:
    from rnr_core.models.base import GenParams

    out = []
    for seed in seeds:
        params = GenParams(temperature=cfg.data["temperature"], max_tokens=cfg.data["max_tokens"], seed=seed)
        out.append((await model.complete(messages, params)).text)
    return out


async def _revise(model, messages: list[dict], rules: list[dict], answer: str, cfg, seed: int) -> str:
    """Send the answer back with the text of the rules it broke."""
    verdicts = check_rules(rules, answer)
    failed = "\n".join(f"- {r['text']}" for r in rules if not verdicts.get(r["id"], True))
    ask = [
        *messages,
        {"role": "assistant", "content": answer},
        {"role": "user", "content": REVISE.format(failed=failed, answer=answer)},
    ]
    return (await _answers(model, ask, cfg, range(seed, seed + 1)))[0]


async def _self(records: list[dict], cfg, revisions: int) -> tuple[list[dict], dict]:
    """The teacher's own answers: `attempts` samples per prompt, the first that passes is kept (with
    `revisions`, the last failing one is sent back with its failed rules that many times)."""
    from rnr_core.models.registry import get_model

    model = get_model(cfg.data["teacher"])
    rng = random.Random(cfg.seed)
    rows, tried, revised = [], 0, 0
    for rec in records:
        if len(rows) >= cfg.samples:
            break
        original = trim(rec["output"], cfg.max_words)
        role, rules = _draw(rng, cfg)
        messages = _messages(_system(role, rules), rec["instruction"], "")[:2]
        tried += 1
        answers, kept = [], None
        for seed in range(cfg.data["attempts"]):  # stop at the first answer that passes
            answers += await _answers(model, messages, cfg, range(seed, seed + 1))
            if all(check_rules(rules, answers[-1]).values()):
                kept = answers[-1]
                break
        rounds = 0
        while kept is None and rounds < revisions:
            rounds += 1
            answer = await _revise(model, messages, rules, answers[-1], cfg, 1000 + rounds)
            answers.append(answer)
            kept = answer if all(check_rules(rules, answer).values()) else None
        if kept is None or not original:
            continue
        revised += rounds > 0
        provenance = {"source": "generated", "revisions": rounds, "fixes": []}
        rows.append(_row(rec, role, rules, kept, original, provenance))
    return rows, {"tried": tried, "kept": len(rows), "revised": revised}


@source("self")
async def self_distilled(records: list[dict], cfg, store=None) -> tuple[list[dict], dict]:
    """The embedded model's own answers, kept by rejection sampling on the checkers."""
    return await _self(records, cfg, 0)


@source("revised")
async def revised(records: list[dict], cfg, store=None) -> tuple[list[dict], dict]:
    """As `self`, with checker-guided revision of prompts that no sample passed."""
    return await _self(records, cfg, cfg.data["revisions"])
