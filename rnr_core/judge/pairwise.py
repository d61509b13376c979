"""The LLM pairwise judge: which of two replies to one item better follows its system prompt and rules."""

import json

import jsonschema

from rnr_core.errors import InvalidOutput
from rnr_core.prompts import load

TEMPLATE = load("pairwise")
REASON_MAX = 300
VERDICTS = ("A", "B", "tie")


def reply_schema() -> dict:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["winner", "reason"],
        "properties": {
            "winner": {"type": "string", "enum": list(VERDICTS)},
            "reason": {"type": "string", "maxLength": REASON_MAX},
        },
    }


def request_messages(
    system_prompt: str, messages: list[dict], rules: list[dict], first: str, second: str
) -> list[dict]:
    """The judge's single user turn: the item, its rules, and the two replies shown as A (first) and B."""
    conversation = "\n\n".join(f"[{m['role']}] {m['content']}" for m in messages)
    listed = "\n".join(f"- {r['text']}" for r in rules) or "(none beyond the system prompt)"
    text = TEMPLATE.render(
        system_prompt=system_prompt, rules=listed, conversation=conversation, first=first, second=second
    )
    return [{"role": "user", "content": text}]


def parse_reply(raw: str) -> dict:
    """{"winner": "A" | "B" | "tie", "reason"}, or InvalidOutput carrying the raw text."""
    try:
        data = json.loads(raw)
        jsonschema.validate(data, reply_schema())
    except json.JSONDecodeError as exc:
        raise InvalidOutput(f"pairwise judge reply is not JSON ({exc.msg})", raw) from exc
    except jsonschema.ValidationError as exc:
        raise InvalidOutput(f"pairwise judge reply does not match the schema: {exc.message}", raw) from exc
    return {"winner": data["winner"], "reason": data["reason"].strip()}


# Who the verdict picks, by the model that was shown first: in the a-first order A is model a.
_PICKS = {"a": {"A": "a", "B": "b", "tie": "tie"}, "b": {"A": "b", "B": "a", "tie": "tie"}}


def combine(ab: str, ba: str) -> str:
    """One vote from both orders: ab is the verdict with model a shown first, ba with model b first.

    The same model picked in both orders wins ("a" or "b"); a tie in both is a tie; anything
    inconsistent (each order picks its first reply, or one order says tie) is a tie, since the
    preference did not survive swapping the sides.
    """
    for name, verdict in (("ab", ab), ("ba", ba)):
        if verdict not in VERDICTS:
            raise ValueError(f"{name} verdict must be one of {', '.join(VERDICTS)}, got {verdict!r}")
    first, second = _PICKS["a"][ab], _PICKS["b"][ba]
    return first if first == second else "tie"
