"""Verdicts from code: verifiable rules are checked by their registry checker."""

CHECKER = "checker"


def checker_verdicts(verdicts: dict[str, bool]) -> list[dict]:
    """Verdict rows from {rule_id: followed}."""
    return [
        {"rule_id": rule_id, "verdict": "pass" if ok else "fail", "rationale": "checked by code"}
        for rule_id, ok in verdicts.items()
    ]
