"""The rule taxonomy: categories now; verifiable kinds plug in here."""

CATEGORIES = ("format", "length", "style", "content", "persona", "safety")


def rule_record(index: int, text: str, category: str) -> dict:
    """A rule as stored: id, text and category; `kind`/`kwargs` are set when a checker applies."""
    return {"id": f"r{index}", "text": text.strip(), "category": category, "kind": None, "kwargs": None}


def render_system_prompt(role: str, rules: list[dict]) -> str:
    """The system prompt text a model sees: the role, then the numbered rules."""
    lines = [role.strip(), "", "Rules:"]
    lines += [f"{i}. {rule['text']}" for i, rule in enumerate(rules, 1)]
    return "\n".join(lines)
