"""One attempt engine for every LLM stage: ask, parse, validate, retry with a new seed, log each try.

Seed policy (the only one): try number `a` of item `key` uses `item_seed(base, key) + a - 1`. Only
tries that got a reply count, so a call that failed is repeated with the same seed, and a resumed
item replays its earlier tries from the call cache instead of paying for them again. Tries made in
a round that ended in failure are recorded in the ledger, and the next round continues after them
with fresh seeds.
"""

import asyncio
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from rnr_core.errors import InvalidOutput, ModelCallError
from rnr_core.messages import stable_hash
from rnr_core.models.base import GenParams, Model
from rnr_core.models.cached import CachedCaller

GROUP_COMMIT_S = 0.2


def item_seed(base: int, key: str) -> int:
    """A per-item seed, stable across processes, so reruns ask the same questions."""
    return int(stable_hash([base, key])[:8], 16)


@dataclass(frozen=True)
class Ask:
    """One unit of LLM work: the request, how to parse the reply, and optionally how to check it."""

    key: str
    stage: str
    messages: list[dict]
    params: GenParams  # the engine sets the seed of each try
    parse: Callable[[str], Any]
    check: Callable[[Any], dict[str, bool]] | None = None  # verdicts by rule id: rejection sampling
    template: str | None = None
    rejections: int | None = None  # None: the engine's own


@dataclass(frozen=True)
class Try:
    """A reply that parsed, with its checker verdicts."""

    attempt: int
    parsed: Any
    params: GenParams
    verdicts: dict[str, bool]
    revision: int | None = None  # the revision round that asked for it; None for a sampled reply

    @property
    def passed(self) -> bool:
        return all(self.verdicts.values())


@dataclass
class Outcome:
    """How an ask ended: `best` is set when a reply parsed; otherwise `error` (and `raw`) say why."""

    attempts: int
    tries: list[Try] = field(default_factory=list)
    error: str | None = None
    raw: str | None = None
    skipped: bool = False  # the engine was stopped by a transient failure before this ask finished
    call_failed: bool = False  # the endpoint failed: no reply to store, the same seed is asked again
    revisions: int = 0  # revision rounds asked for

    @property
    def best(self) -> Try | None:
        """The first passing try, else the first of those passing the most rules."""
        return max(self.tries, key=lambda t: sum(t.verdicts.values())) if self.tries else None


class Engine:
    """Runs asks for one scope (a run, a judge) with one seed policy and one failure policy."""

    def __init__(
        self,
        store,
        model: Model,
        scope: str,
        seed_base: int,
        max_invalid: int,
        rejections: int = 0,
        run_id: str | None = None,
    ):
        self.store, self.scope, self.seed_base = store, scope, seed_base
        self.max_invalid, self.rejections = max_invalid, rejections
        self.call = CachedCaller(store, model, run_id)
        self.abort: ModelCallError | None = None  # set by a transient failure: start nothing new

    def seed(self, key: str, attempt: int) -> int:
        return item_seed(self.seed_base, key) + attempt - 1

    async def run(self, ask: Ask, start: int = 0) -> Outcome:
        """Try until a reply parses (and, when checked, passes or the rejections run out)."""
        attempt, invalid, tries, last = start, 0, [], None
        rejections = self.rejections if ask.rejections is None else ask.rejections
        while invalid <= self.max_invalid and len(tries) <= rejections:
            if self.abort:
                return Outcome(attempt, skipped=True)
            attempt += 1
            params = replace(ask.params, seed=self.seed(ask.key, attempt))
            try:
                reply = await self.call(ask.messages, params)
            except ModelCallError as exc:
                if exc.transient:
                    self.abort = self.abort or exc
                self._log(ask, attempt, params, "error", error=str(exc))
                # No reply: not an attempt. The item keeps what failed; the run's error says what to change.
                return Outcome(attempt - 1, error=exc.what, call_failed=True)
            try:
                parsed = ask.parse(reply.text)
            except InvalidOutput as exc:
                last, invalid = exc, invalid + 1
                self._log(ask, attempt, params, "invalid", exc.reason, str(exc), exc.raw, reply.cached)
                continue
            verdicts = ask.check(parsed) if ask.check else {}
            tries.append(Try(attempt, parsed, params, verdicts))
            outcome = "ok" if tries[-1].passed else "failed_checks"
            self._log(ask, attempt, params, outcome, cached=reply.cached)
            if tries[-1].passed:
                break
        if tries:
            return Outcome(attempt, tries)
        return Outcome(attempt, error=str(last), raw=last.raw)

    async def revise(
        self, ask: Ask, outcome: Outcome, follow_up: Callable[[Try], list[dict]], rounds: int, template: str
    ) -> Outcome:
        """Up to `rounds` revisions of a checked reply that still fails: the best try so far goes back
        with `follow_up(best)` (what failed), and the answer is checked like any try. Each revision is
        a try of the same item, so it gets the next seed, is logged, and replays from the call cache."""
        for round_no in range(1, rounds + 1):
            best = outcome.best
            if best is None or best.passed:
                break
            again = replace(
                ask,
                stage="revision",
                messages=[*ask.messages, *follow_up(best)],
                template=template,
                rejections=0,
            )
            got = await self.run(again, outcome.attempts)
            if got.skipped or got.call_failed:
                return got  # nothing settles: the item is retried (or resumed) from its start
            tries = outcome.tries + [replace(t, revision=round_no) for t in got.tries]
            outcome = Outcome(got.attempts, tries, revisions=round_no)
        return outcome

    def _log(
        self,
        ask: Ask,
        attempt: int,
        params: GenParams,
        outcome: str,
        reason: str | None = None,
        error: str | None = None,
        raw: str | None = None,
        cached: bool = False,
    ) -> None:
        self.store.log_attempt(
            {
                "scope": self.scope,
                "item_key": ask.key,
                "stage": ask.stage,
                "attempt": attempt,
                "seed": params.seed,
                "outcome": outcome,
                "reason": reason,
                "error": error,
                "raw_output": raw,
                "template": ask.template,
                "cached": cached,
            }
        )


@asynccontextmanager
async def group_commit(store, every: float = GROUP_COMMIT_S, flush: Callable[[], None] | None = None):
    """Write logged calls and tries at most `every` seconds after they happen, in one transaction;
    `flush` writes more alongside (it must flush the log too; default: the log alone)."""
    flush = flush or store.flush_log

    async def flusher():
        while True:
            await asyncio.sleep(every)
            flush()

    task = asyncio.create_task(flusher())
    try:
        yield
    finally:
        task.cancel()
        flush()
    if task.done() and not task.cancelled() and task.exception():
        raise task.exception()  # a failed background write must not pass silently
