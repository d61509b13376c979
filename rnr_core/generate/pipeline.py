"""The RNR run: system prompts, then responses, resumable item by item."""

import asyncio
import random
import uuid

from rnr_core.attempts import Ask, Engine, Outcome, group_commit, item_seed
from rnr_core.errors import InvalidOutput, NotFound, RnrError
from rnr_core.generate import repair, turns
from rnr_core.generate import system_prompt as sp_stage
from rnr_core.generate.plan import OLD_RUN_DEFAULTS, RunConfig, all_keys, plan_groups, split_rules
from rnr_core.generate.recycle import RecycleJob, with_reference
from rnr_core.models.base import GenParams
from rnr_core.models.registry import get_model
from rnr_core.progress import Progress, silent
from rnr_core.rules.checking import CHECKER, checker_verdicts
from rnr_core.rules.sampling import check_rules, draw_rules
from rnr_core.secrets import scrub

SP_MAX_TOKENS = 700
RESPONSE_TEMPLATE = f"{turns.GUIDANCE.id}+{turns.TEMPTING.id}"


def start_run(store, config: RunConfig, started_by: str | None = None) -> str:
    """Plan a run and record it, with who started it; nothing is generated yet."""
    if config.mode != "recycle":
        get_model(config.model)  # fail on a bad spec before anything is written
    dataset_id = store.dataset_id(config.dataset)
    if dataset_id is None:
        names = ", ".join(d["name"] for d in store.list_datasets()) or "none yet"
        raise NotFound(f"No dataset {config.dataset!r} (have: {names}).", hint="import")
    planned = plan_groups(config, store.instruction_ids(dataset_id), with_reference(store))
    run_id = f"run-{uuid.uuid4().hex[:10]}"
    store.create_run(run_id, dataset_id, planned.model, planned.as_dict(), started_by)
    return run_id


async def execute_run(store, run_id: str, progress: Progress | None = None) -> dict:
    """Do every item not yet done (retrying failed ones) and return the run with its counts."""
    run = store.get_run(run_id)
    if run is None:
        raise NotFound(f"No run {run_id!r}.", hint="list_runs")
    # Runs recorded before a setting existed resume as they started (free-form rules, no repairs).
    config = RunConfig(**{**OLD_RUN_DEFAULTS, **run["config"]})
    store.set_run_status(run_id, "running")
    job = JOBS[config.mode](store, run_id, config, progress)
    try:
        async with group_commit(store):
            await job.run()
    except (asyncio.CancelledError, KeyboardInterrupt):
        store.set_run_status(run_id, "cancelled", "stopped before the end; resume to finish")
        raise
    except RnrError as exc:
        store.set_run_status(run_id, "failed", exc.what, exc.hint)
        raise
    except Exception as exc:
        store.set_run_status(run_id, "failed", scrub(f"{type(exc).__name__}: {exc}"))
        raise
    missing = len(set(all_keys(config)) - store.done_items(run_id))
    if job.abort:
        store.set_run_status(run_id, "failed", job.abort.what, job.abort.hint)
    elif missing:
        store.set_run_status(run_id, "failed", f"{missing} item(s) not done")
    else:
        store.set_run_status(run_id, "completed")
    return store.get_run(run_id)


class _Job:
    """State of one execution: the engine, what is done, and the progress counts."""

    def __init__(self, store, run_id: str, config: RunConfig, progress: Progress | None):
        self.store, self.run_id, self.config = store, run_id, config
        self.engine = Engine(
            store, get_model(config.model), run_id, config.seed, config.max_retries, config.rejections, run_id
        )
        self.done = store.done_items(run_id)
        # Retries of failed items continue the attempt count, so they get fresh seeds, not cache hits.
        self.tried = {i["item_key"]: i["attempts"] for i in store.run_items(run_id, "failed")}
        self.total = len(all_keys(config))
        self.finished, self.failed = len(self.done), 0
        self.progress = progress or silent
        ids = [i for g in config.groups for i in g] + [i for i in config.outsiders if i is not None]
        self.instructions = store.instructions(ids)

    @property
    def abort(self):
        return self.engine.abort

    async def run(self) -> None:
        self.progress(self.finished, self.total, self.failed)
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
            ask = Ask(
                key,
                "system_prompt",
                sp_stage.request_messages(instructions, n_free, fixed),
                self._params(SP_MAX_TOKENS, sp_stage.reply_schema(n_free)),
                parse=lambda raw: sp_stage.parse_reply(raw, n_free, fixed, self.config.quality_gate),
                template=sp_stage.TEMPLATE.id,
            )

            def write(best) -> None:
                self.store.add_system_prompt(
                    self.run_id, g, *best.parsed, self.config.model, sp_stage.TEMPLATE.id
                )

            self._settle(ask, await self.engine.run(ask, self.tried.get(key, 0)), write)
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
        checked = any(r.get("kind") for r in prompt["rules"])
        messages = [{"role": "system", "content": turns.teacher_system(prompt["text"])}, *conv]
        ask = Ask(
            key,
            "response",
            messages,
            self._params(self.config.max_tokens),
            parse=_non_empty,
            check=(lambda text: check_rules(prompt["rules"], text)) if checked else None,
            template=RESPONSE_TEMPLATE,
        )
        outcome = await self.engine.run(ask, self.tried.get(key, 0))
        if checked and self.config.revisions:
            outcome = await self.engine.revise(
                ask,
                outcome,
                lambda best: repair.revision_turns(prompt["rules"], best),
                self.config.revisions,
                repair.REVISE.id,
            )

        def write(best) -> None:
            kept = (
                repair.keep(prompt["rules"], outcome, self.config.fixers, repair.first_user_text(conv))
                if checked
                else None
            )
            sample_id = self.store.add_sample(
                {
                    "run_id": self.run_id,
                    "item_key": key,
                    "system_prompt_id": prompt["id"],
                    "instruction_id": instruction_id,
                    "kind": kind,
                    "target_rule": target_rule,
                    "messages": conv,
                    "response": kept.text if kept else best.parsed,
                    "model": self.config.model,
                    "template": RESPONSE_TEMPLATE,
                    "params": best.params.as_dict(),
                    "seed": best.params.seed,
                    "provenance": kept.provenance if kept else None,
                }
            )
            if checked:
                self._record_checks(sample_id, outcome, kept.verdicts)

        self._settle(ask, outcome, write)

    def _record_checks(self, sample_id: int, outcome: Outcome, verdicts: dict[str, bool]) -> None:
        """Every try with its checker verdicts, and the kept response's (after any fix)."""
        best = outcome.best
        self.store.add_attempts(
            sample_id,
            [
                {
                    "attempt": t.attempt,
                    "response": t.parsed,
                    "verdicts": t.verdicts,
                    "passed": t.passed,
                    "kept": t is best,
                    "seed": t.params.seed,
                    "revision": t.revision,
                }
                for t in outcome.tries
            ],
        )
        self.store.add_verdicts(sample_id, CHECKER, checker_verdicts(verdicts))

    def _params(self, max_tokens: int, schema: dict | None = None) -> GenParams:
        return GenParams(temperature=self.config.temperature, max_tokens=max_tokens, json_schema=schema)

    def _settle(self, ask: Ask, outcome: Outcome, write) -> None:
        """Store the result and its ledger row in one transaction, or record the failure."""
        if outcome.skipped:
            return
        with self.store.transaction():
            self.store.flush_log()
            if outcome.best is not None:
                write(outcome.best)
                self.store.record_item(self.run_id, ask.key, ask.stage, "done", outcome.attempts)
                self.done.add(ask.key)
            else:
                self.store.record_item(
                    self.run_id, ask.key, ask.stage, "failed", outcome.attempts, outcome.error, outcome.raw
                )
                self.failed += 1
        self.finished += 1
        self.progress(min(self.finished, self.total), self.total, self.failed)


def _non_empty(raw: str) -> str:
    if not raw.strip():
        raise InvalidOutput("the response is empty", raw, "empty")
    return raw.strip()


JOBS = {"generate": _Job, "recycle": RecycleJob}
