"""Pure IFEval scoring: prompts with their rules and responses in, result rows out."""

from dataclasses import dataclass

from rnr_core.rules.base import RuleKind
from rnr_core.rules.evaluate import follows

MODES = ("strict", "loose")


@dataclass(frozen=True)
class Prompt:
    key: object
    prompt: str
    instruction_id_list: list[str]
    rules: list[RuleKind]
    line: int


def result_row(prompt: Prompt, response: str, loose: bool) -> dict:
    """One line of IFEval's eval_results file."""
    verdicts = [follows(rule, response, loose) for rule in prompt.rules]
    return {
        "instruction_id_list": prompt.instruction_id_list,
        "prompt": prompt.prompt,
        "response": response,
        "follow_all_instructions": all(verdicts),
        "follow_instruction_list": verdicts,
    }


def evaluate(prompts: list[Prompt], responses: dict[str, str]) -> dict[str, list[dict]]:
    """Rows per mode, in input order; every prompt must have a response."""
    return {mode: [result_row(p, responses[p.prompt], mode == "loose") for p in prompts] for mode in MODES}


def accuracies(rows: list[dict]) -> dict:
    """Prompt-level (all rules followed) and instruction-level accuracy."""
    verdicts = [v for r in rows for v in r["follow_instruction_list"]]
    return {
        "prompt_level": sum(r["follow_all_instructions"] for r in rows) / max(len(rows), 1),
        "instruction_level": sum(verdicts) / max(len(verdicts), 1),
    }
