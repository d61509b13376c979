"""How far an LLM judge agrees with the checkers on verifiable rules: whether to trust it on the rest."""

from rnr_core.errors import NotFound
from rnr_core.judge import llm
from rnr_core.stats import judge_calibration


def calibration(
    store, judge: str | None = None, run_id: str | None = None, dataset: str | None = None
) -> dict:
    """`stats.judge_calibration` over the samples' (category, checker, LLM) verdicts on verifiable rules,
    for `judge` (a model spec or 'llm:<spec>'; the latest LLM judge in scope when None), with its name."""
    if run_id and store.get_run(run_id) is None:
        raise NotFound(f"No run {run_id!r}. 'rnr runs' lists the runs.")
    if dataset and store.dataset_id(dataset) is None:
        raise NotFound(f"No dataset {dataset!r}. 'rnr datasets' lists them.")
    name = _judge_name(judge) if judge else store.latest_llm_judge(run_id, dataset)
    rows = store.calibration_pairs(name, run_id, dataset) if name else []
    return {**judge_calibration(rows), "judge": name, "n": len(rows)}


def _judge_name(judge: str) -> str:
    return judge if judge.startswith("llm:") else llm.judge_name(judge)
