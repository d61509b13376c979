"""Conversations to answer: plain, tempting (pushes against a rule) and out of scope."""

import random

from rnr_core.messages import prompt_turns
from rnr_core.prompts import load

GUIDANCE = load("response_guidance")
TEMPTING = load("tempting_turn")


def teacher_system(system_prompt: str) -> str:
    """The system message the generator sees: the prompt plus a reminder to keep every rule."""
    return GUIDANCE.render(system_prompt=system_prompt)


def tempting_turn(rules: list[dict], rng: random.Random) -> tuple[str, str]:
    """Pick a rule and a pressure line; return (rule id, user text)."""
    rule = rng.choice(rules)
    line = rng.choice(TEMPTING.lines())
    return rule["id"], line.replace("$rule", rule["text"].rstrip("."))


def plain_conversation(instruction: list[dict]) -> list[dict]:
    """Earlier turns kept, ending at the last user turn whose answer we generate."""
    return prompt_turns(instruction)


def follow_up(conversation: list[dict], response: str, user_text: str) -> list[dict]:
    return [*conversation, {"role": "assistant", "content": response}, {"role": "user", "content": user_text}]
