"""The RNR run: system prompts, then responses, resumable item by item."""

import asyncio
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from rnr_core.errors import InvalidOutput, ModelCallError, NotFound
from rnr_core.generate import system_prompt as sp_stage
from rnr_core.generate import turns
from rnr_core.generate.calls import CachedCaller
from rnr_core.generate.plan import RunConfig, all_keys, item_seed, plan_groups, split_rules
from rnr_core.judge.checker import CHECKER, checker_verdicts
from rnr_core.models.base import GenParams
from rnr_core.models.registry import get_model
from rnr_core.progress import Progress, silent
from rnr_core.rules.sampling import check_rules, draw_rules

SP_MAX_TOKENS = 700
RESPONSE_TEMPLATE = f"{turns.GUIDANCE.id}+{turns.TEMPTING.id}"


def start_run(store, config: RunConfig) -> str:
    """Plan a run and record it; nothing is generated yet."""
    get_model(config.model)  # fail on a bad spec before anything is written
    dataset_id = store.dataset_id(config.dataset)
    if dataset_id is None:
        names = ", ".join(d["name"] for d in store.list_datasets()) or "none yet"
        raise NotFound(
            f"No dataset {config.dataset!r} (have: {names}). Import one with 'rnr ingest FILE --name NAME'."
        )
    planned = plan_groups(config, store.instruction_ids(dataset_id))
    run_id = f"run-{uuid.uuid4().hex[:10]}"
    store.create_run(run_id, dataset_id, config.model, planned.as_dict())
    return run_id


def execute_run(store, run_id: str, progress: Progress | None = None) -> dict:
    """Do every item not yet done (retrying failed ones) and return the run with its counts."""
    run = store.get_run(run_id)
    if run is None:
        raise NotFound(f"No run {run_id!r}. 'rnr runs' lists the runs.")
    # Runs recorded before rule-aware generation resume as they started: free-form rules only.
    config = RunConfig(**{"verifiable_share": 0.0, "rejections": 0, **run["config"]})
    store.set_run_status(run_id, "running")
    job = _Job(store, run_id, config, progress)
    try:
        asyncio.run(job.run())
    except KeyboardInterrupt:
        store.set_run_status(run_id, "interrupted", "stopped by the user; resume to finish")
        raise
    except Exception as exc:
        store.set_run_status(run_id, "failed", f"{type(exc).__name__}: {exc}")
        raise
    finally:
        store.flush_calls()
    missing = len(set(all_keys(config)) - store.done_items(run_id))
    if missing:
        reason = job.abort_reason or f"{missing} item(s) not done; resume to retry them"
        store.set_run_status(run_id, "failed", reason)
    else:
        store.set_run_status(run_id, "completed")
    return store.get_run(run_id)


class _Job:
    """State of one execution: the caller, what is done, and whether to stop early."""

    def __init__(self, store, run_id: str, config: RunConfig, progress: Progress | None):
        self.store, self.run_id, self.config = store, run_id, config
        self.model = get_model(config.model)
        self.call = CachedCaller(store, self.model, run_id)
        self.done = store.done_items(run_id)
        # Retries of failed items continue the attempt count, so they get fresh seeds, not cache hits.
        self.tried = {i["item_key"]: i["attempts"] for i in store.run_items(run_id, "failed")}
        self.total = len(all_keys(config))
        self.finished = len(self.done)
        self.progress = progress or silent
        self.abort_reason: str | None = None
        ids = [i for g in config.groups for i in g] + [i for i in config.outsiders if i is not None]
        self.instructions = store.instructions(ids)

    async def run(self) -> None:
        self.progress(self.finished, self.total)
        await asyncio.gather(*(self._group(g) for g in range(len(self.config.groups))))

    async def _group(self, g: int) -> None:
        prompt = await self._system_prompt(g)
        if prompt is None:
            return
        convs = [turns.plain_conversation(self.instructions[i]) for i in self.config.groups[g]]
        await asyncio.gather(
            *(
                self._respond(g, f"r{j}", prompt, c, "plain", self.config.groups[g][j])
                for j, c in enumerate(convs)
            )
        )
        extras = []
        if self.config.tempting:
            extras.append(self._tempting(g, prompt))
        if self.config.out_of_scope and self.config.outsiders[g] is not None:
            outsider = self.config.outsiders[g]
            conv = turns.plain_conversation(self.instructions[outsider])
            extras.append(self._respond(g, "scope", prompt, conv, "out_of_scope", outsider))
        await asyncio.gather(*extras)

    async def _tempting(self, g: int, prompt: dict) -> None:
        base = self.store.sample_by_key(self.run_id, f"g{g:04d}:r0")
        if base is None:
            return  # the first response failed; a resume retries both
        rng = random.Random(item_seed(self.config.seed, f"g{g:04d}:tempting"))
        rule_id, text = turns.tempting_turn(prompt["rules"], rng)
        conv = turns.follow_up(base["messages"], base["response"], text)
        await self._respond(g, "tempting", prompt, conv, "tempting", base["instruction_id"], rule_id)

    async def _system_prompt(self, g: int) -> dict | None:
        key = f"g{g:04d}:system"
        if key not in self.done:
            n_free, n_verifiable = split_rules(self.config)
            rng = random.Random(item_seed(self.config.seed, f"{key}:verifiable"))
            fixed = draw_rules(rng, n_verifiable, n_free + 1)
            instructions = [self.instructions[i] for i in self.config.groups[g]]

            def write(parsed, params: GenParams, tried: list) -> None:
                self.store.add_system_prompt(self.run_id, g, *parsed, self.config.model, sp_stage.TEMPLATE.id)

            await self._attempts(
                _Item(
                    key,
                    "system_prompt",
                    sp_stage.request_messages(instructions, n_free, fixed),
                    sp_stage.reply_schema(n_free),
                    SP_MAX_TOKENS,
                    parse=lambda raw: sp_stage.parse_reply(raw, n_free, fixed),
                    write=write,
                )
            )
        return self.store.system_prompt(self.run_id, g)

    async def _respond(
        self,
        g: int,
        slot: str,
        prompt: dict,
        conv: list[dict],
        kind: str,
        instruction_id: int,
        target_rule: str | None = None,
    ) -> None:
        key = f"g{g:04d}:{slot}"
        if key in self.done:
            return

        def write(response: str, params: GenParams, tried: list["_Tried"]) -> None:
            sample_id = self.store.add_sample(
                {
                    "run_id": self.run_id,
                    "item_key": key,
                    "system_prompt_id": prompt["id"],
                    "instruction_id": instruction_id,
                    "kind": kind,
                    "target_rule": target_rule,
                    "messages": conv,
                    "response": response,
                    "model": self.config.model,
                    "template": RESPONSE_TEMPLATE,
                    "params": params.as_dict(),
                    "seed": params.seed,
                }
            )
            if tried:
                self._record_checks(sample_id, tried, params.seed)

        checked = any(r.get("kind") for r in prompt["rules"])
        messages = [{"role": "system", "content": turns.teacher_system(prompt["text"])}, *conv]
        await self._attempts(
            _Item(
                key,
                "response",
                messages,
                None,
                self.config.max_tokens,
                parse=_non_empty,
                write=write,
                check=(lambda text: check_rules(prompt["rules"], text)) if checked else None,
            )
        )

    def _record_checks(self, sample_id: int, tried: list["_Tried"], kept_seed: int) -> None:
        """Every attempt with its checker verdicts, and the kept response's verdicts."""
        self.store.add_attempts(
            sample_id,
            [
                {
                    "attempt": t.attempt,
                    "response": t.parsed,
                    "verdicts": t.verdicts,
                    "passed": t.passed,
                    "kept": t.params.seed == kept_seed,
                    "seed": t.params.seed,
                }
                for t in tried
            ],
        )
        best = next(t for t in tried if t.params.seed == kept_seed)  # seeds are unique per attempt
        self.store.add_verdicts(sample_id, CHECKER, checker_verdicts(best.verdicts))

    def _params(self, item: "_Item", attempt: int) -> GenParams:
        # Each retry changes the seed, so it is a new request rather than a cache hit.
        return GenParams(
            temperature=self.config.temperature,
            max_tokens=item.max_tokens,
            seed=item_seed(self.config.seed, item.key) + attempt - 1,
            json_schema=item.schema,
        )

    async def _attempts(self, item: "_Item") -> None:
        """Call until a reply parses (and, when checked, passes or runs out of tries); store the best."""
        last: InvalidOutput | None = None
        attempt, invalid, tried = self.tried.get(item.key, 0), 0, []
        while invalid <= self.config.max_retries and len(tried) <= self.config.rejections:
            if self.abort_reason:
                return
            attempt += 1
            params = self._params(item, attempt)
            try:
                parsed = item.parse((await self.call(item.messages, params)).text)
            except InvalidOutput as exc:
                last, invalid = exc, invalid + 1
                continue
            except ModelCallError as exc:
                if exc.transient:  # the endpoint is down or saturated: stop starting new work
                    self.abort_reason = self.abort_reason or str(exc)
                # Only replies count as attempts, so a resume retries with the same seed.
                self._finish(item, "failed", attempt - 1, str(exc), None)
                return
            if item.check is None:
                return self._store(item, parsed, params, attempt, [])
            tried.append(_Tried(attempt, parsed, params, item.check(parsed)))
            if tried[-1].passed:
                break
        if tried:
            best = max(tried, key=lambda t: sum(t.verdicts.values()))  # first of the best scores
            return self._store(item, best.parsed, best.params, attempt, tried)
        self._finish(item, "failed", attempt, str(last), last.raw)

    def _store(self, item: "_Item", parsed, params: GenParams, attempts: int, tried: list) -> None:
        """The result, its log entries and the ledger row land in one transaction."""
        with self.store.transaction():
            self.store.flush_calls()
            item.write(parsed, params, tried)
            self.store.record_item(self.run_id, item.key, item.stage, "done", attempts)
        self.done.add(item.key)
        self._tick()

    def _finish(self, item: "_Item", status: str, attempts: int, error: str, raw: str | None) -> None:
        self.store.flush_calls()
        self.store.record_item(self.run_id, item.key, item.stage, status, attempts, error, raw)
        self._tick()

    def _tick(self) -> None:
        self.finished += 1
        self.progress(min(self.finished, self.total), self.total)


@dataclass(frozen=True)
class _Tried:
    """One parsed response and its checker verdicts."""

    attempt: int
    parsed: str
    params: GenParams
    verdicts: dict[str, bool]

    @property
    def passed(self) -> bool:
        return all(self.verdicts.values())


@dataclass(frozen=True)
class _Item:
    """One unit of work: the request to send, how to parse the reply, and how to store it."""

    key: str
    stage: str
    messages: list[dict]
    schema: dict | None
    max_tokens: int
    parse: Callable[[str], object]
    write: Callable[..., None]
    check: Callable[[str], dict[str, bool]] | None = None  # checker verdicts by rule id


def _non_empty(raw: str) -> str:
    if not raw.strip():
        raise InvalidOutput("the response is empty", raw)
    return raw.strip()
