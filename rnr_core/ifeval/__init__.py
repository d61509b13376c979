"""IFEval: read prompts and responses, give strict and loose verdicts, write IFEval's result files."""

from rnr_core.ifeval.evaluate import Prompt, accuracies, evaluate
from rnr_core.ifeval.files import read_prompts, read_responses, write_results

__all__ = ["Prompt", "accuracies", "evaluate", "read_prompts", "read_responses", "write_results"]
