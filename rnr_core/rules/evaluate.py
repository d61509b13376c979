"""Strict and loose verdicts of a checker on a response, as IFEval defines them."""

from rnr_core.rules.base import RuleKind


def loose_variants(response: str) -> list[str]:
    """The response; without its first line, last line, or both; and each with '*' removed."""
    lines = response.split("\n")
    trimmed = [
        response,
        "\n".join(lines[1:]).strip(),
        "\n".join(lines[:-1]).strip(),
        "\n".join(lines[1:-1]).strip(),
    ]
    unstarred = [t.replace("*", "") for t in trimmed]
    return [trimmed[0], unstarred[0], *trimmed[1:], *unstarred[1:]]


def follows(rule: RuleKind, response: str, loose: bool = False) -> bool:
    """Strict checks the response as is; loose passes if any non-empty variant passes."""
    candidates = loose_variants(response) if loose else (response,)
    return any(c.strip() and rule.check(c) for c in candidates)
