"""Judge samples rule by rule: checkers for verifiable rules, an LLM for free-form ones (and, to
calibrate it against the checkers, for verifiable ones too)."""

import asyncio

from rnr_core.attempts import Engine, group_commit
from rnr_core.errors import ModelCallError, NotFound
from rnr_core.judge import llm
from rnr_core.models.registry import get_model
from rnr_core.progress import Progress, silent
from rnr_core.rules.checking import CHECKER, checker_verdicts
from rnr_core.rules.sampling import check_rules

JUDGE_SEED = 0


def _missing(sample: dict, judge: str, verifiable: bool, template: str | None = None) -> list[dict]:
    """Rules of one sort this judge (with this prompt template) has no current pass/fail verdict on;
    a stale verdict, given before an edit, does not count."""
    have = {
        v["rule_id"]
        for v in sample["verdicts"]
        if v["judge"] == judge
        and v["verdict"] != "unknown"
        and v.get("template") == template
        and not v.get("stale")
    }
    return [r for r in sample["rules"] if bool(r.get("kind")) == verifiable and r["id"] not in have]


async def judge_samples(
    store,
    run_id: str | None = None,
    dataset: str | None = None,
    judge: str | None = None,
    max_retries: int = 2,
    progress: Progress | None = None,
    sample_ids: list[int] | None = None,
    calibrate: bool = False,
) -> dict:
    """Give every unjudged rule of the selected samples a verdict; rerunning continues.

    `sample_ids` narrows the selection to those samples (e.g. one just edited, to judge it again).
    With `calibrate` the LLM judge is asked about verifiable rules too; the checker still decides
    them, and `rnr_core.calibration` measures how often the judge agrees with it.
    """
    if run_id and store.get_run(run_id) is None:
        raise NotFound(f"No run {run_id!r}. 'rnr runs' lists the runs.")
    if dataset and store.dataset_id(dataset) is None:
        raise NotFound(f"No dataset {dataset!r}. 'rnr datasets' lists them.")
    if judge:
        get_model(judge)  # refuse a bad spec before anything is written
    samples = store.samples_with_verdicts(run_id, dataset, sample_ids)
    if sample_ids is not None:
        missing = sorted(set(sample_ids) - {s["id"] for s in samples})
        if missing and not (run_id or dataset):
            raise NotFound(f"No sample with id {', '.join(map(str, missing))}. Reload the review queue.")
    checked = _run_checkers(store, samples)
    summary = {"samples": len(samples), "checker_verdicts": checked, "judge": None}
    if judge:
        summary.update(await _LlmJudging(store, judge, max_retries, progress, calibrate).run(samples))
    return summary


def _run_checkers(store, samples: list[dict]) -> int:
    count, judged = 0, []
    with store.transaction():
        for s in samples:
            rules = _missing(s, CHECKER, verifiable=True)
            if rules:
                verdicts = checker_verdicts(check_rules(rules, s["response"]))
                store.add_verdicts(s["id"], CHECKER, verdicts, refresh=False)
                count += len(rules)
                judged.append(s["id"])
        store.refresh_verdict_flags(judged)  # once for all, not once per sample
    return count


class _LlmJudging:
    """One pass of the LLM judge over the samples that still need it."""

    def __init__(
        self, store, spec: str, max_retries: int, progress: Progress | None, calibrate: bool = False
    ):
        self.store, self.name, self.template = store, llm.judge_name(spec), llm.TEMPLATE.id
        self.calibrate = calibrate
        # The ledger scope: a judge is the model and its prompt template; a new template judges anew.
        self.scope = f"judge:{self.name}:{self.template}"
        self.engine = Engine(store, get_model(spec), self.scope, JUDGE_SEED, max_retries)
        self.progress = progress or silent
        self.counts = {
            "judge": self.name,
            "template": self.template,
            "llm_verdicts": 0,
            "unknown": 0,
            "call_errors": 0,
        }

    async def run(self, samples: list[dict]) -> dict:
        todo = [(s, rules) for s in samples if (rules := self._rules(s))]
        self.done, self.failed, self.total = 0, 0, len(todo)
        self.tried = {i["item_key"]: i["attempts"] for i in self.store.run_items(self.scope, "failed")}
        self.progress(0, self.total, 0)
        async with group_commit(self.store):
            await asyncio.gather(*(self._one(s, rules) for s, rules in todo))
        if self.engine.abort:
            raise ModelCallError(
                f"{self.engine.abort} — verdicts so far are saved; judging again does the rest.",
                transient=True,
            )
        return {**self.counts, "llm_samples": self.total}

    def _rules(self, sample: dict) -> list[dict]:
        """Rules this judge still owes a verdict: free-form ones, and verifiable ones when calibrating."""
        owed = _missing(sample, self.name, False, self.template)
        if self.calibrate:
            owed += _missing(sample, self.name, True, self.template)
        ids = {r["id"] for r in owed}
        return [r for r in sample["rules"] if r["id"] in ids]  # in the prompt's order

    async def _one(self, sample: dict, rules: list[dict]) -> None:
        ids = [r["id"] for r in rules]
        key = f"sample:{sample['id']}"
        ask = llm.verdict_ask(key, "judge", sample, rules, self.template)
        outcome = await self.engine.run(ask, self.tried.get(key, 0))
        if outcome.skipped:
            return
        if outcome.call_failed:  # nothing stored: the next run asks again
            self.counts["call_errors"] += 1
            return
        verdicts = (
            outcome.best.parsed if outcome.best else llm.unknown_verdicts(ids, outcome.error, outcome.raw)
        )
        self.counts["llm_verdicts" if outcome.best else "unknown"] += len(ids)
        status = "done" if outcome.best else "failed"
        with self.store.transaction():
            self.store.flush_log()
            self.store.add_verdicts(sample["id"], self.name, verdicts, self.template)
            self.store.record_item(
                self.scope, key, "judge", status, outcome.attempts, outcome.error, outcome.raw
            )
        self.done, self.failed = self.done + 1, self.failed + (outcome.best is None)
        self.progress(self.done, self.total, self.failed)
