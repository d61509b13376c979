"""Stage 1: ask for a role and rules as JSON, then validate the reply."""

import json

import jsonschema

from rnr_core.errors import InvalidOutput, QualityGateFailed
from rnr_core.generate.quality import problems
from rnr_core.messages import last_user_text
from rnr_core.prompts import load
from rnr_core.rules import CATEGORIES, render_system_prompt, rule_record

TEMPLATE = load("system_prompt", "v2")
ROLE_MAX, RULE_MAX, EXCERPT_MAX = 400, 200, 600


def reply_schema(n_rules: int) -> dict:
    """JSON schema of the reply; bounds keep constrained decoding finite."""
    rule = {
        "type": "object",
        "additionalProperties": False,
        "required": ["text", "category"],
        "properties": {
            "text": {"type": "string", "minLength": 8, "maxLength": RULE_MAX},
            "category": {"type": "string", "enum": list(CATEGORIES)},
        },
    }
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["role", "rules"],
        "properties": {
            "role": {"type": "string", "minLength": 8, "maxLength": ROLE_MAX},
            "rules": {"type": "array", "minItems": n_rules, "maxItems": n_rules, "items": rule},
        },
    }


def _fixed_note(fixed: list[dict]) -> str:
    """Tell the writer which checkable rules the prompt already has, so it does not contradict them."""
    if not fixed:
        return ""
    listed = "\n".join(f"- {r['text']}" for r in fixed)
    return (
        f"\nThe prompt will also carry these rules, added after yours; write rules that are "
        f"different from them and do not contradict them:\n{listed}\n"
    )


def request_messages(instructions: list[list[dict]], n_rules: int, fixed: list[dict] = ()) -> list[dict]:
    """The single user turn that asks for a system prompt covering these instructions."""
    listing = "\n".join(
        f"{i}. {last_user_text(m)[:EXCERPT_MAX].strip()}" for i, m in enumerate(instructions, 1)
    )
    text = TEMPLATE.render(
        k=len(instructions),
        n=n_rules,
        instructions=listing,
        categories=", ".join(CATEGORIES),
        fixed=_fixed_note(list(fixed)),
    )
    return [{"role": "user", "content": text}]


def parse_reply(
    raw: str, n_rules: int, fixed: list[dict] = (), gate: bool = True
) -> tuple[str, list[dict], str]:
    """Validate a reply (and, with `gate`, its fitness as training data); return role, its rules
    followed by the fixed ones, and the prompt text."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidOutput(f"reply is not JSON ({exc.msg})", raw, "not_json") from exc
    try:
        jsonschema.validate(data, reply_schema(n_rules))
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "top level"
        raise InvalidOutput(
            f"reply does not match the schema at {where}: {exc.message}", raw, "schema"
        ) from exc
    if not data["role"].strip() or any(not r["text"].strip() for r in data["rules"]):
        raise InvalidOutput("reply has a blank role or rule", raw, "blank")
    rules = [rule_record(i, r["text"], r["category"]) for i, r in enumerate(data["rules"], 1)]
    rules += list(fixed)
    found = problems(data["role"], rules) if gate else []
    if found:
        raise QualityGateFailed(
            "system prompt failed the quality gate: " + "; ".join(p.detail for p in found),
            raw,
            [p.code for p in found],
        )
    return data["role"].strip(), rules, render_system_prompt(data["role"], rules)
