"""Rules: the taxonomy, the registry of verifiable kinds, and how rules reach a system prompt."""

from rnr_core.rules import formatting, keywords, length, style  # noqa: F401  (they fill KINDS)
from rnr_core.rules.base import KINDS, RuleKind, build

CATEGORIES = ("format", "length", "style", "content", "language", "persona", "safety")


def rule_record(
    index: int, text: str, category: str, kind: str | None = None, kwargs: dict | None = None
) -> dict:
    """A rule as stored: id, text and category; `kind`/`kwargs` are set when a checker applies."""
    return {"id": f"r{index}", "text": text.strip(), "category": category, "kind": kind, "kwargs": kwargs}


def checker_of(rule: dict) -> RuleKind | None:
    """The checker of a stored rule, or None for a free-form one."""
    return build(rule["kind"], rule["kwargs"], where=f"rule {rule['id']}") if rule.get("kind") else None


def render_system_prompt(role: str, rules: list[dict]) -> str:
    """The system prompt text a model sees: the role, then the numbered rules."""
    lines = [role.strip(), "", "Rules:"]
    lines += [f"{i}. {rule['text']}" for i, rule in enumerate(rules, 1)]
    return "\n".join(lines)


__all__ = ["CATEGORIES", "KINDS", "RuleKind", "build", "checker_of", "render_system_prompt", "rule_record"]
