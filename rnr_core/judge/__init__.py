"""Judge samples rule by rule: checkers for verifiable rules, an LLM for free-form ones."""

import asyncio

from rnr_core.errors import InvalidOutput, ModelCallError, NotFound
from rnr_core.generate.calls import CachedCaller
from rnr_core.judge import llm
from rnr_core.judge.checker import CHECKER, checker_verdicts
from rnr_core.models.base import GenParams
from rnr_core.models.registry import get_model
from rnr_core.progress import Progress, silent
from rnr_core.rules.sampling import check_rules

JUDGE_MAX_TOKENS = 600


def _missing(sample: dict, judge: str, verifiable: bool) -> list[dict]:
    """Rules of one sort that this judge has not given a pass/fail verdict on yet."""
    have = {v["rule_id"] for v in sample["verdicts"] if v["judge"] == judge and v["verdict"] != "unknown"}
    return [r for r in sample["rules"] if bool(r.get("kind")) == verifiable and r["id"] not in have]


def judge_samples(
    store,
    run_id: str | None = None,
    dataset: str | None = None,
    judge: str | None = None,
    max_retries: int = 2,
    progress: Progress | None = None,
) -> dict:
    """Give every unjudged rule of the selected samples a verdict; rerunning continues."""
    if run_id and store.get_run(run_id) is None:
        raise NotFound(f"No run {run_id!r}. 'rnr runs' lists the runs.")
    if dataset and store.dataset_id(dataset) is None:
        raise NotFound(f"No dataset {dataset!r}. 'rnr datasets' lists them.")
    samples = store.samples_with_verdicts(run_id, dataset)
    checked = _run_checkers(store, samples)
    summary = {"samples": len(samples), "checker_verdicts": checked, "judge": None}
    if judge:
        summary.update(_LlmJudging(store, judge, max_retries, progress).run(samples))
    return summary


def _run_checkers(store, samples: list[dict]) -> int:
    count = 0
    with store.transaction():
        for s in samples:
            rules = _missing(s, CHECKER, verifiable=True)
            if rules:
                store.add_verdicts(s["id"], CHECKER, checker_verdicts(check_rules(rules, s["response"])))
                count += len(rules)
    return count


class _LlmJudging:
    """One pass of the LLM judge over the samples that still need it."""

    def __init__(self, store, spec: str, max_retries: int, progress: Progress | None):
        self.store, self.name, self.max_retries = store, llm.judge_name(spec), max_retries
        self.call = CachedCaller(store, get_model(spec))
        self.progress = progress or silent
        self.counts = {"judge": self.name, "llm_verdicts": 0, "unknown": 0, "call_errors": 0}
        self.abort: ModelCallError | None = None

    def run(self, samples: list[dict]) -> dict:
        todo = [(s, rules) for s in samples if (rules := _missing(s, self.name, verifiable=False))]
        self.done, self.total = 0, len(todo)
        self.progress(0, self.total)
        try:
            asyncio.run(self._all(todo))
        finally:
            self.store.flush_calls()
        if self.abort:
            raise ModelCallError(
                f"{self.abort} — verdicts so far are saved; rerun 'rnr judge' to judge the rest.",
                transient=True,
            )
        return {**self.counts, "llm_samples": self.total}

    async def _all(self, todo) -> None:
        await asyncio.gather(*(self._one(s, rules) for s, rules in todo))

    def _first_seed(self, sample: dict) -> int:
        """0, or after an earlier round ended 'unknown', a seed of its own so this is no cache hit."""
        earlier = [
            v["created_at"]
            for v in sample["verdicts"]
            if v["judge"] == self.name and v["verdict"] == "unknown"
        ]
        return int(max(earlier).timestamp() * 1000) % 2**31 if earlier else 0

    async def _one(self, sample: dict, rules: list[dict]) -> None:
        ids = [r["id"] for r in rules]
        messages = llm.request_messages(sample, rules)
        verdicts, last, first = None, None, self._first_seed(sample)
        for attempt in range(self.max_retries + 1):
            if self.abort:
                return
            params = GenParams(
                temperature=0.0,
                max_tokens=JUDGE_MAX_TOKENS,
                seed=first + attempt,
                json_schema=llm.reply_schema(ids),
            )
            try:
                verdicts = llm.parse_reply((await self.call(messages, params)).text, ids)
                break
            except InvalidOutput as exc:
                last = exc
            except ModelCallError as exc:
                self.counts["call_errors"] += 1
                if exc.transient:
                    self.abort = self.abort or exc
                return  # nothing stored: the next run asks again
        if verdicts is None:
            verdicts = llm.unknown_verdicts(ids, str(last), last.raw)
            self.counts["unknown"] += len(ids)
        else:
            self.counts["llm_verdicts"] += len(ids)
        with self.store.transaction():
            self.store.flush_calls()
            self.store.add_verdicts(sample["id"], self.name, verdicts)
        self.done += 1
        self.progress(self.done, self.total)
