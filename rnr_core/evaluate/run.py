"""Run models on a frozen benchmark: answer every item, check every verifiable rule, ask the LLM judge
once per answer about all its rules. Everything is stored as it arrives, so a rerun resumes."""

import asyncio
import json

from rnr_core.attempts import Ask, Engine, group_commit
from rnr_core.errors import BenchmarkError, InvalidOutput, ModelCallError
from rnr_core.evaluate import report as reports
from rnr_core.evaluate.benchmark import load
from rnr_core.evaluate.items import conversation
from rnr_core.judge import llm
from rnr_core.messages import stable_hash
from rnr_core.models.base import GenParams
from rnr_core.models.registry import get_model
from rnr_core.progress import Progress, silent
from rnr_core.rules import checker_of
from rnr_core.rules.checking import CHECKER
from rnr_core.rules.evaluate import follows

ANSWER_SEED, JUDGE_SEED = 0, 0
MAX_INVALID = 1  # an empty answer is asked once more with a fresh seed before it counts as failed
JUDGE_RETRIES = 2
DEFAULT_MAX_TOKENS, DEFAULT_TEMPERATURE = 512, 0.0


def eval_id(content_hash: str, model: str, params: dict) -> str:
    """One id per (benchmark content, model, sampling settings): running it again resumes it.

    The judge is not part of it: the answers are the model's, and each judge's verdicts on them are
    stored under the judge's name, so compare and every judge reuse one set of answers.
    """
    return "eval-" + stable_hash([content_hash, model, params])[:16]


def _params(max_tokens: int, temperature: float) -> dict:
    return {"max_tokens": int(max_tokens), "temperature": float(temperature)}


def reused_params(store, bench: dict, model: str, max_tokens=None, temperature=None) -> dict:
    """Sampling settings for answering: those given, else those of the model's latest completed
    evaluation (preferring a judged one), so its stored answers are reused rather than asked anew under
    other settings, else the defaults."""
    row = store.latest_eval(bench["id"], model, "completed") if None in (max_tokens, temperature) else None
    stored = json.loads(row["params"]) if row else {}
    return _params(
        max_tokens if max_tokens is not None else stored.get("max_tokens", DEFAULT_MAX_TOKENS),
        temperature if temperature is not None else stored.get("temperature", DEFAULT_TEMPERATURE),
    )


def _check_specs(models: list[str], judge: str | None) -> list[str]:
    """Every spec resolved before any call: an unknown one fails here, named."""
    if isinstance(models, str):
        models = [models]
    models = list(dict.fromkeys(models or []))
    if not models:
        raise BenchmarkError("Name at least one model to evaluate (--model SPEC).")
    for spec in [*models, *([judge] if judge else [])]:
        get_model(spec)
    return models


async def run_eval(
    store,
    benchmark: str,
    models: list[str],
    judge: str | None = "local",
    max_tokens: int = 512,
    temperature: float = 0.0,
    limit: int | None = None,
    started_by: str | None = None,
    progress: Progress | None = None,
) -> dict:
    """Evaluate each model on the benchmark (the first `limit` items) and report pass rates."""
    bench = load(store, benchmark)
    models = _check_specs(models, judge)
    items = bench["items"][:limit] if limit else bench["items"]
    counter = _Counter(progress or silent, len(items) * len(models))
    runs = [_Evaluation(store, bench, m, judge, _params(max_tokens, temperature), started_by) for m in models]
    for run in runs:
        await run.run(items, counter)
    done = {r.model: reports.report_with_outcomes(store, bench, r.id, items, r.judge_name) for r in runs}
    return {
        "benchmark": benchmark,
        "reports": {model: report for model, (report, _) in done.items()},
        "differences": reports.differences({model: outcomes for model, (_, outcomes) in done.items()}),
    }


async def ensure_responses(
    store,
    benchmark: str,
    model: str,
    max_tokens: int | None = None,
    temperature: float | None = None,
    progress: Progress | None = None,
    limit: int | None = None,
) -> dict[str, str | None]:
    """Every item's answer from `model` (the first `limit` items), asked for where not yet stored; None
    for a failed item. Settings left out are those of the model's latest completed evaluation."""
    bench = load(store, benchmark)
    _check_specs([model], None)
    items = bench["items"][:limit] if limit else bench["items"]
    params = reused_params(store, bench, model, max_tokens, temperature)
    run = _Evaluation(store, bench, model, None, params, None)
    await run.run(items, _Counter(progress or silent, len(items)))
    stored = store.eval_responses(run.id)
    return {
        it["item_key"]: stored[it["item_key"]]["response"] if it["item_key"] in stored else None
        for it in items
    }


class _Counter:
    """Progress over every model's items: done counts items finished, failed those without a verdict."""

    def __init__(self, progress: Progress, total: int):
        self.progress, self.total, self.done, self.failed = progress, total, 0, 0
        progress(0, total, 0)

    def __call__(self, failed: bool) -> None:
        self.done, self.failed = self.done + 1, self.failed + failed
        self.progress(self.done, self.total, self.failed)


class _Batch:
    """Answers and verdicts written together with the call log, a few times a second (group commit)."""

    def __init__(self, store):
        self.store, self.responses, self.verdicts = store, [], []

    def flush(self) -> None:
        responses, verdicts, self.responses, self.verdicts = self.responses, self.verdicts, [], []
        with self.store.transaction():
            self.store.flush_log()  # a stored answer always has its call logged
            self.store.save_eval_rows(responses, verdicts)


def _answer(raw: str) -> str:
    if not raw.strip():
        raise InvalidOutput("the model gave an empty answer", raw, "empty")
    return raw


class _Evaluation:
    """One model on one benchmark: answers, checker verdicts and (optionally) one judge's verdicts."""

    def __init__(self, store, bench: dict, model: str, judge: str | None, params: dict, started_by):
        self.store, self.bench, self.model, self.params = store, bench, model, params
        self.id = eval_id(bench["content_hash"], model, params)
        self.scope = f"eval:{self.id}"
        self.answers = Engine(store, get_model(model), self.scope, ANSWER_SEED, MAX_INVALID)
        self.judge = Engine(store, get_model(judge), self.scope, JUDGE_SEED, JUDGE_RETRIES) if judge else None
        self.judge_name = llm.judge_name(judge) if judge else None
        self.template = llm.TEMPLATE.id
        store.open_eval(self.id, bench["id"], model, self.judge_name, params, started_by)

    async def run(self, items: list[dict], counter: _Counter) -> None:
        self.stored = self.store.eval_responses(self.id)
        self.judged = self._judged()
        self.judge_tried = self.store.attempts_tried(self.scope, "eval-judge") if self.judge else {}
        try:
            self.batch = _Batch(self.store)
            async with group_commit(self.store, flush=self.batch.flush):
                await asyncio.gather(*(self._one(it, counter) for it in items))
        except BaseException as exc:
            self.store.set_eval_status(
                self.id, "stopped" if isinstance(exc, asyncio.CancelledError) else "failed", str(exc)
            )
            raise
        abort = self.answers.abort or (self.judge.abort if self.judge else None)
        if abort:
            message = f"{abort} — answers and verdicts so far are saved; a rerun does the rest."
            self.store.set_eval_status(self.id, "failed", message)
            raise ModelCallError(message, transient=True)
        self.store.set_eval_status(self.id, "completed")

    def _judged(self) -> set[str]:
        """Items whose every rule has a pass/fail from this judge with the current template."""
        if not self.judge_name:
            return set()
        have: dict[str, set[str]] = {}
        for v in self.store.eval_verdicts(self.id, self.judge_name):
            if v["verdict"] in ("pass", "fail") and v["template"] == self.template:
                have.setdefault(v["item_key"], set()).add(v["rule_id"])
        rules = {it["item_key"]: {r["id"] for r in it["rules"]} for it in self.bench["items"]}
        return {k for k, ids in have.items() if ids >= rules.get(k, set())}

    def _stopped(self) -> bool:
        return bool(self.answers.abort or (self.judge and self.judge.abort))

    async def _one(self, item: dict, counter: _Counter) -> None:
        key = item["item_key"]
        row = self.stored.get(key)
        if row is None or row["status"] == "failed":
            row = await self._answer(item, row["attempts"] if row else 0)
        if row is None:  # stopped by a transient failure: nothing stored, the next run asks again
            return
        judged = True
        if self.judge and row["status"] == "done" and key not in self.judged:
            judged = await self._judge(item, row["response"])
        if judged is None:
            return
        counter(row["status"] == "failed" or not judged)

    async def _answer(self, item: dict, start: int) -> dict | None:
        if self._stopped():
            return None
        key = item["item_key"]
        messages = conversation(item)
        params = GenParams(temperature=self.params["temperature"], max_tokens=self.params["max_tokens"])
        ask = Ask(key, "eval", messages, params, parse=_answer)
        outcome = await self.answers.run(ask, start)
        if outcome.skipped or (outcome.call_failed and self.answers.abort):
            return None
        if outcome.best is None:
            row = {"status": "failed", "response": None, "error": outcome.error, "raw_output": outcome.raw}
        else:
            row = {"status": "done", "response": outcome.best.parsed, "error": None, "raw_output": None}
        row["attempts"] = outcome.attempts
        self.batch.responses.append(
            (self.id, key, row["status"], row["response"], row["error"], row["raw_output"], row["attempts"])
        )
        if row["response"] is not None:
            self.batch.verdicts.extend(self._checked(item, row["response"]))
        return row

    def _checked(self, item: dict, response: str) -> list[tuple]:
        """Strict and loose checker verdicts on every verifiable rule."""
        rows = []
        for rule in (r for r in item["rules"] if r.get("kind")):
            checker = checker_of(rule)
            for mode in ("strict", "loose"):
                verdict = "pass" if follows(checker, response, mode == "loose") else "fail"
                rows.append((self.id, item["item_key"], rule["id"], CHECKER, mode, verdict, None, None, None))
        return rows

    async def _judge(self, item: dict, response: str) -> bool | None:
        """One judge request about all the item's rules; True when it gave a verdict on each."""
        if self._stopped():
            return None
        key, rules = item["item_key"], item["rules"]
        ids = [r["id"] for r in rules]
        ask = llm.verdict_ask(key, "eval-judge", {**item, "response": response}, rules, self.template)
        outcome = await self.judge.run(ask, self.judge_tried.get(key, 0))
        if outcome.skipped or (outcome.call_failed and self.judge.abort):
            self.answers.abort = self.answers.abort or self.judge.abort  # stop answering too
            return None
        verdicts = (
            outcome.best.parsed if outcome.best else llm.unknown_verdicts(ids, outcome.error, outcome.raw)
        )
        self.batch.verdicts.extend(
            (self.id, key, v["rule_id"], self.judge_name, "", v["verdict"], v["rationale"], self.template)
            + (v.get("raw_output"),)
            for v in verdicts
        )
        return outcome.best is not None
