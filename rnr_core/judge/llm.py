"""The LLM judge for free-form rules: one request per sample, a JSON verdict per rule."""

import json

import jsonschema

from rnr_core.attempts import Ask
from rnr_core.errors import InvalidOutput
from rnr_core.models.base import GenParams
from rnr_core.prompts import load

TEMPLATE = load("judge")
RATIONALE_MAX = 300
JUDGE_MAX_TOKENS = 600


def judge_name(spec: str) -> str:
    return f"llm:{spec}"


def reply_schema(rule_ids: list[str]) -> dict:
    verdict = {
        "type": "object",
        "additionalProperties": False,
        "required": ["verdict", "rationale"],
        "properties": {
            "verdict": {"type": "string", "enum": ["pass", "fail"]},
            "rationale": {"type": "string", "maxLength": RATIONALE_MAX},
        },
    }
    return {
        "type": "object",
        "additionalProperties": False,
        "required": rule_ids,
        "properties": {r: verdict for r in rule_ids},
    }


def request_messages(sample: dict, rules: list[dict]) -> list[dict]:
    """The judge's single user turn for these rules of one sample."""
    conversation = "\n\n".join(f"[{m['role']}] {m['content']}" for m in sample["messages"])
    listed = "\n".join(f"- {r['id']}: {r['text']}" for r in rules)
    text = TEMPLATE.render(
        system_prompt=sample["system_prompt"],
        conversation=conversation,
        response=sample["response"],
        rules=listed,
    )
    return [{"role": "user", "content": text}]


def parse_reply(raw: str, rule_ids: list[str]) -> list[dict]:
    """Verdict rows for every rule id, or InvalidOutput carrying the raw text."""
    try:
        data = json.loads(raw)
        jsonschema.validate(data, reply_schema(rule_ids))
    except json.JSONDecodeError as exc:
        raise InvalidOutput(f"judge reply is not JSON ({exc.msg})", raw) from exc
    except jsonschema.ValidationError as exc:
        raise InvalidOutput(f"judge reply does not match the schema: {exc.message}", raw) from exc
    return [
        {"rule_id": r, "verdict": data[r]["verdict"], "rationale": data[r]["rationale"].strip()}
        for r in rule_ids
    ]


def verdict_ask(key: str, stage: str, sample: dict, rules: list[dict], template: str | None = None) -> Ask:
    """The one judge request about all `rules` of `sample` (which carries its `response`): messages,
    JSON schema and parser, ready for the attempt engine; `template` defaults to TEMPLATE's id."""
    ids = [r["id"] for r in rules]
    params = GenParams(temperature=0.0, max_tokens=JUDGE_MAX_TOKENS, json_schema=reply_schema(ids))
    return Ask(
        key,
        stage,
        request_messages(sample, rules),
        params,
        parse=lambda raw: parse_reply(raw, ids),
        template=template or TEMPLATE.id,
    )


def unknown_verdicts(rule_ids: list[str], error: str, raw: str | None) -> list[dict]:
    """What is stored when the judge never gave a usable reply: neither pass nor fail."""
    return [{"rule_id": r, "verdict": "unknown", "rationale": error, "raw_output": raw} for r in rule_ids]
