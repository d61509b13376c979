"""Recycle mode (RuleR-style): the dataset's own reference answers, edited to follow drawn
verifiable rules by their mechanical fixers, under a system prompt of a role and those rules. No
model is called; every sample is checked like a generated one."""

import asyncio
import random

from rnr_core.attempts import item_seed
from rnr_core.generate.plan import REFERENCE_MODEL, RunConfig, group_keys
from rnr_core.generate.repair import first_user_text, provenance
from rnr_core.messages import prompt_turns
from rnr_core.progress import Progress, silent
from rnr_core.prompts import load
from rnr_core.rules import render_system_prompt
from rnr_core.rules.checking import CHECKER, checker_verdicts
from rnr_core.rules.fixes import FIXERS, fix_response
from rnr_core.rules.sampling import check_rules, draw_rules

ROLES = load("roles")
TEMPLATE = "reference+fixes"
FIXABLE = frozenset(FIXERS)


def reference_response(messages: list[dict], original: dict) -> str | None:
    """The answer a dataset holds for an instruction: the assistant turn after the last user turn
    (ShareGPT, messages), else the record's 'output' (Alpaca, alpaca_eval); None when it has none."""
    last_user = max((i for i, m in enumerate(messages) if m["role"] == "user"), default=None)
    after = messages[last_user + 1] if last_user is not None and last_user + 1 < len(messages) else None
    if after and after["role"] == "assistant" and after["content"].strip():
        return after["content"].strip()
    output = original.get("output") if isinstance(original, dict) else None
    return output.strip() if isinstance(output, str) and output.strip() else None


def with_reference(store):
    """Which of some instruction ids have a reference answer: what a recycle plan draws from."""

    def check(ids: list[int]) -> set[int]:
        return {i for i, (m, o) in store.instruction_sources(ids).items() if reference_response(m, o)}

    return check


def system_prompt(config: RunConfig, g: int) -> tuple[str, list[dict], str]:
    """A seeded role line and verifiable rules that have fixers: (role, rules, text)."""
    rng = random.Random(item_seed(config.seed, f"g{g:04d}:system"))
    role = rng.choice(ROLES.lines())
    rules = draw_rules(rng, config.rules, 1, FIXABLE)
    return role, rules, render_system_prompt(role, rules)


def recycled(rules: list[dict], messages: list[dict], original: dict) -> tuple[str, dict, dict[str, bool]]:
    """The reference answer fixed to the rules: (response, provenance, checker verdicts)."""
    reference = reference_response(messages, original)
    conversation = prompt_turns(messages)
    text, fixes = fix_response(rules, reference, first_user_text(conversation))
    return text, provenance("recycled", fixes=fixes), check_rules(rules, text)


class RecycleJob:
    """A recycle run's execution: group by group, each group written in one transaction."""

    abort = None  # no model call, so no endpoint failure stops it

    def __init__(self, store, run_id: str, config: RunConfig, progress: Progress | None):
        self.store, self.run_id, self.config = store, run_id, config
        self.progress = progress or silent
        self.done = store.done_items(run_id)
        self.total = sum(len(group_keys(config, g)) for g in range(len(config.groups)))
        self.sources = store.instruction_sources([i for g in config.groups for i in g])

    async def run(self) -> None:
        finished = len(self.done)
        self.progress(finished, self.total, 0)
        for g in range(len(self.config.groups)):
            finished += self._group(g)
            self.progress(finished, self.total, 0)
            await asyncio.sleep(0)  # a cancel gets in between groups

    def _group(self, g: int) -> int:
        """Write group g's system prompt and samples not yet done; return how many items it settled."""
        keys = [k for k in group_keys(self.config, g) if k not in self.done]
        if not keys:
            return 0
        with self.store.transaction():
            self.store.flush_log()
            prompt = self.store.system_prompt(self.run_id, g)
            if prompt is None:
                role, rules, text = system_prompt(self.config, g)
                self.store.add_system_prompt(self.run_id, g, role, rules, text, REFERENCE_MODEL, ROLES.id)
                prompt = self.store.system_prompt(self.run_id, g)
            for key in keys:
                if key.endswith(":system"):
                    self.store.record_item(self.run_id, key, "system_prompt", "done", 0)
                    continue
                j = int(key.rsplit(":r", 1)[1])
                self._sample(g, key, prompt, self.config.groups[g][j])
                self.store.record_item(self.run_id, key, "response", "done", 0)
        self.done.update(keys)
        return len(keys)

    def _sample(self, g: int, key: str, prompt: dict, instruction_id: int) -> None:
        messages, original = self.sources[instruction_id]
        text, made, verdicts = recycled(prompt["rules"], messages, original)
        sample_id = self.store.add_sample(
            {
                "run_id": self.run_id,
                "item_key": key,
                "system_prompt_id": prompt["id"],
                "instruction_id": instruction_id,
                "kind": "plain",
                "target_rule": None,
                "messages": prompt_turns(messages),
                "response": text,
                "model": REFERENCE_MODEL,
                "template": TEMPLATE,
                "params": {},
                "seed": item_seed(self.config.seed, f"g{g:04d}:system"),
                "provenance": made,
            }
        )
        self.store.add_verdicts(sample_id, CHECKER, checker_verdicts(verdicts))
