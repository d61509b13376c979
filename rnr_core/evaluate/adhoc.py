"""The live demo: one typed prompt answered by several contestants at once, streamed, and judged on
free-form rules by the LLM judge."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from rnr_core.attempts import Engine, group_commit
from rnr_core.errors import RnrError, SettingError
from rnr_core.evaluate.items import conversation, item
from rnr_core.judge import llm
from rnr_core.messages import stable_hash
from rnr_core.models.base import GenParams
from rnr_core.models.registry import get_model

CATEGORY = "ad hoc"  # typed rules have no category of the taxonomy
JUDGE_SEED = 0
MAX_RULES = 12


@dataclass(frozen=True)
class Contestant:
    """A model spec with its own temperature; `label` names it on the page and in votes."""

    spec: str
    temperature: float = 0.0
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or self.spec


def label(shown: str, temperature: float, with_setting: bool) -> str:
    """`local`, or `local · t=0.9` where the same model appears with several settings."""
    return f"{shown} · t={temperature:g}" if with_setting else shown


def rules_from_text(text: str) -> list[dict]:
    """One free-form rule per non-empty line, in the shape samples hold them."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if len(lines) > MAX_RULES:
        raise SettingError(f"{len(lines)} rules given; the live demo judges at most {MAX_RULES}.")
    return [
        {"id": f"r{i}", "text": line, "kind": None, "kwargs": {}, "category": CATEGORY}
        for i, line in enumerate(lines, 1)
    ]


def adhoc_item(system_prompt: str, user: str, rules: list[dict]) -> dict:
    """The typed prompt as a benchmark item, keyed like one (items.item_key)."""
    if not (user or "").strip():
        raise SettingError("Type a user turn: it is what the models answer.")
    return item((system_prompt or "").strip(), [{"role": "user", "content": user.strip()}], rules)


async def stream_answers(
    contestants: list[Contestant], item: dict, max_tokens: int = 256
) -> AsyncIterator[tuple[int, str | RnrError]]:
    """(contestant index, text chunk) as any contestant produces one; a failing one yields its error."""
    queue: asyncio.Queue = asyncio.Queue()
    messages = conversation(item)

    async def pump(i: int, c: Contestant) -> None:
        try:
            params = GenParams(temperature=c.temperature, max_tokens=max_tokens)
            async for chunk in get_model(c.spec).stream(messages, params):
                await queue.put((i, chunk))
        except RnrError as exc:
            await queue.put((i, exc))
        finally:
            await queue.put((i, None))

    tasks = [asyncio.create_task(pump(i, c)) for i, c in enumerate(contestants)]
    try:
        running = len(tasks)
        while running:
            i, chunk = await queue.get()
            if chunk is None:
                running -= 1
            else:
                yield i, chunk
    finally:  # a reader that stops early stops every contestant
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def judge_adhoc(store, judge: str, item: dict, response: str, max_retries: int = 2) -> list[dict]:
    """A verdict per rule of `item` on `response` from the LLM judge `judge`, in one request; a judge
    that never gives a usable reply (or cannot be reached) gives `unknown` verdicts saying why, with
    its raw output. Every call and try is logged in the store."""
    rules = item["rules"]
    if not rules:
        return []
    key = stable_hash([item["item_key"], [r["text"] for r in rules], response])
    scope = f"adhoc:{llm.judge_name(judge)}:{llm.TEMPLATE.id}"
    ask = llm.verdict_ask(key, "judge", {**item, "response": response}, rules)
    engine = Engine(store, get_model(judge), scope, JUDGE_SEED, max_retries)
    async with group_commit(store):
        outcome = await engine.run(ask)
    if outcome.best:
        return outcome.best.parsed
    ids = [r["id"] for r in rules]
    return llm.unknown_verdicts(ids, outcome.error or "the judge gave no usable reply", outcome.raw)


async def judge_all(
    store, judge: str, item: dict, answers: dict[int, str], max_retries: int = 2
) -> dict[int, list[dict] | RnrError]:
    """Every answer judged at once: answer index -> its verdicts, or the error that stopped its judging
    (one failure leaves the others judged)."""
    keys = list(answers)
    got = await asyncio.gather(
        *(judge_adhoc(store, judge, item, answers[k], max_retries) for k in keys), return_exceptions=True
    )
    for outcome in got:  # a fault of the program is raised, never shown as a judge's failure
        if isinstance(outcome, BaseException) and not isinstance(outcome, RnrError):
            raise outcome
    return dict(zip(keys, got, strict=True))
