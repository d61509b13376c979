"""Benchmark items (pure): built from samples, file lines or IFEval prompts, validated, hashed."""

import random

from rnr_core.errors import EvalInputError, RuleError
from rnr_core.messages import check_messages, prompt_turns, stable_hash
from rnr_core.rules import CATEGORIES, checker_of, rule_record

RULE_FIELDS = ("id", "text", "kind", "kwargs", "category")


def item_key(system_prompt: str, turns: list[dict]) -> str:
    """The key of a prompt (benchmark item, ad-hoc prompt or vote): a hash of the system prompt and the
    turns' roles and texts, so the same question keeps its key wherever it is asked."""
    turns = [{"role": m["role"], "content": m["content"]} for m in turns]
    return "i-" + stable_hash([system_prompt, turns])[:16]


def item(system_prompt: str, turns: list[dict], rules: list[dict]) -> dict:
    """One item, keyed by `item_key`."""
    turns = [{"role": m["role"], "content": m["content"]} for m in turns]
    rules = [{f: r.get(f) for f in RULE_FIELDS} for r in rules]
    key = item_key(system_prompt, turns)
    return {"item_key": key, "system_prompt": system_prompt, "messages": turns, "rules": rules}


def conversation(item: dict) -> list[dict]:
    """What a model is sent for an item: the system prompt (if any), then the turns."""
    system = [{"role": "system", "content": item["system_prompt"]}] if item["system_prompt"] else []
    return system + item["messages"]


def content_hash(items: list[dict]) -> str:
    return stable_hash(items)


def unique(items: list[dict]) -> tuple[list[dict], int]:
    """The first item of each key (the same system prompt and turns asked twice is one item), and how
    many later ones were dropped (they may differ in their rules: the count tells the user)."""
    seen: dict[str, dict] = {}
    for it in items:
        seen.setdefault(it["item_key"], it)
    return list(seen.values()), len(items) - len(seen)


def from_sample(sample: dict) -> dict:
    return item(sample["system_prompt"], prompt_turns(sample["messages"]), sample["rules"])


def _rule(where: str, i: int, rule) -> dict:
    at = f"{where}: rules[{i}]"
    if not isinstance(rule, dict):
        raise EvalInputError(f"{at} must be an object with 'id' and 'text', got {type(rule).__name__}")
    for name in ("id", "text"):
        if not isinstance(rule.get(name), str) or not rule[name].strip():
            raise EvalInputError(f"{at}: field {name!r} must be a non-empty string")
    try:
        checker = checker_of({**rule, "kwargs": rule.get("kwargs")}) if rule.get("kind") else None
    except RuleError as exc:
        raise EvalInputError(f"{at}: {exc}") from exc
    category = rule.get("category") or (checker.category if checker else "content")
    if category not in CATEGORIES:
        raise EvalInputError(
            f"{at}: field 'category' must be one of {', '.join(CATEGORIES)}, got {category!r}"
        )
    kwargs = checker.kwargs if checker else None
    return {**rule_record(0, rule["text"], category, rule.get("kind") or None, kwargs), "id": rule["id"]}


def from_line(where: str, obj) -> dict:
    """An item from one JSONL record {messages: [system, user, ...], rules: [...]}; errors name `where`."""
    if not isinstance(obj, dict):
        raise EvalInputError(f"{where}: expected a JSON object with 'messages' and 'rules'")
    messages = obj.get("messages")
    problem = check_messages(messages)
    if problem:
        raise EvalInputError(f"{where}: field 'messages': {problem}")
    rules = obj.get("rules")
    if not isinstance(rules, list) or not rules:
        raise EvalInputError(
            f"{where}: field 'rules' must be a non-empty list of rules to judge the answer by"
        )
    checked = [_rule(where, i, r) for i, r in enumerate(rules)]
    ids = [r["id"] for r in checked]
    if len(set(ids)) != len(ids):
        raise EvalInputError(f"{where}: field 'rules': rule ids must be unique, got {ids}")
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    return item(system, prompt_turns(messages), checked)


def from_ifeval(prompt) -> dict:
    """An IFEval prompt as an item: no system prompt, the prompt as the user turn, verifiable rules."""
    rules = [
        rule_record(i, rule.render(), rule.category, kind, dict(rule.kwargs))
        for i, (kind, rule) in enumerate(zip(prompt.instruction_id_list, prompt.rules), 1)
    ]
    return item("", [{"role": "user", "content": prompt.prompt}], rules)


def stratified(prompts: list, limit: int, seed: int) -> list:
    """A seeded subset of `limit` prompts that takes turns across instruction kinds, so every kind
    appears once before any appears twice (as far as the limit allows); input order is kept."""
    rng = random.Random(seed)
    by_kind: dict[str, list[int]] = {}
    for i, p in enumerate(prompts):
        for kind in dict.fromkeys(p.instruction_id_list):
            by_kind.setdefault(kind, []).append(i)
    queues = {k: rng.sample(v, len(v)) for k, v in sorted(by_kind.items())}
    kinds, chosen = list(queues), set()
    while len(chosen) < limit and any(queues.values()):
        rng.shuffle(kinds)
        for kind in kinds:
            queue = queues[kind]
            while queue and queue[0] in chosen:
                queue.pop(0)
            if queue and len(chosen) < limit:
                chosen.add(queue.pop(0))
    return [p for i, p in enumerate(prompts) if i in chosen]
