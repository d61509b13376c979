"""Compare models on a benchmark: an LLM judge on every pair in both orders, people's votes, and the
leaderboard both feed (win rates, Bradley-Terry ratings, per-category win rates)."""

import asyncio
from itertools import combinations

from rnr_core import ranking
from rnr_core.attempts import Ask, Engine, Outcome, group_commit
from rnr_core.errors import ModelCallError, SettingError, VoteError
from rnr_core.evaluate.benchmark import load
from rnr_core.evaluate.items import item_key as prompt_key
from rnr_core.evaluate.run import ensure_responses
from rnr_core.judge import llm, pairwise
from rnr_core.models.base import GenParams
from rnr_core.models.registry import get_model
from rnr_core.progress import Progress, silent

WINNERS = ranking.WINNERS
VOTERS = {"all": None, "human": "human", "llm": "llm"}
PAIRWISE_MAX_TOKENS = 300
PAIRWISE_SEED = 0
ORDERS = ("ab", "ba")


async def run_compare(
    store,
    benchmark: str,
    models: list[str],
    judge: str,
    max_tokens: int | None = None,
    started_by: str | None = None,
    progress: Progress | None = None,
    max_retries: int = 2,
    temperature: float | None = None,
    limit: int | None = None,
) -> dict:
    """Answer the benchmark (its first `limit` items) with every model, have `judge` vote on every pair
    of models on every item in both orders, and return the leaderboard; rerunning continues. Settings left
    out are each model's latest completed evaluation's, so its stored answers are reused."""
    models = list(dict.fromkeys([models] if isinstance(models, str) else models or []))
    if len(models) < 2:
        raise SettingError(f"Compare needs at least two different models; got {', '.join(models) or 'none'}.")
    bench = load(store, benchmark)  # NotFound naming it and the known ones
    for spec in [*models, judge]:
        get_model(spec)  # refuse a bad spec before any call
    responses = {}
    for model in models:
        responses[model] = await ensure_responses(
            store, benchmark, model, max_tokens, temperature, progress=progress, limit=limit
        )
    judging = _PairwiseJudging(store, bench, judge, max_retries, progress, started_by)
    items = bench["items"][:limit] if limit else bench["items"]
    summary = await judging.run(models, responses, items)
    return {**leaderboard(store, benchmark), "run": summary}


class _PairwiseJudging:
    """One pass of the pairwise judge over the (item, model pair) votes still missing or failed."""

    def __init__(self, store, bench: dict, spec: str, max_retries: int, progress, started_by):
        self.store, self.bench, self.started_by = store, bench, started_by
        self.voter, self.template = llm.judge_name(spec), pairwise.TEMPLATE.id
        # The ledger scope: a pairwise judge is the model and its prompt template.
        self.scope = f"pairwise:{self.voter}:{self.template}"
        self.engine = Engine(store, get_model(spec), self.scope, PAIRWISE_SEED, max_retries)
        self.progress = progress or silent
        self.counts = {"judge": self.voter, "template": self.template, "votes": 0, "failed_votes": 0}
        self.counts |= {"already_done": 0, "skipped_items": 0, "call_errors": 0}

    async def run(self, models: list[str], responses: dict[str, dict], items: list[dict]) -> dict:
        todo = self._todo(models, responses, items)
        self.done, self.failed, self.total = 0, 0, len(todo)
        self.tried = {i["item_key"]: i["attempts"] for i in self.store.run_items(self.scope, "failed")}
        self.progress(0, self.total, 0)
        async with group_commit(self.store):
            await asyncio.gather(*(self._one(*t) for t in todo))
        if self.engine.abort:
            raise ModelCallError(
                f"{self.engine.abort} — votes so far are saved; comparing again continues.", transient=True
            )
        return self.counts

    def _todo(self, models: list[str], responses: dict[str, dict], items: list[dict]) -> list[tuple]:
        """(item, model a, model b) to judge; items a model failed on are skipped and counted."""
        done = self.store.llm_votes_done(self.bench["id"], self.voter, self.template)
        todo, skipped = [], set()
        for item in items:
            key = item["item_key"]
            # Sorted pairs: the same two models are one vote whatever order they were named in.
            for a, b in combinations(sorted(models), 2):
                pair = (responses[a].get(key), responses[b].get(key))
                if None in pair:
                    skipped.add(key)
                elif (key, a, b, *pair) in done:
                    self.counts["already_done"] += 1
                else:
                    todo.append((item, a, b, *pair))
        self.counts["skipped_items"] = len(skipped)
        return todo

    def _ask(self, item: dict, a: str, b: str, order: str, first: str, second: str) -> Ask:
        params = GenParams(
            temperature=0.0, max_tokens=PAIRWISE_MAX_TOKENS, json_schema=pairwise.reply_schema()
        )
        return Ask(
            f"{self.bench['id']}:{item['item_key']}:{a}|{b}:{order}",
            "pairwise",
            pairwise.request_messages(item["system_prompt"], item["messages"], item["rules"], first, second),
            params,
            parse=pairwise.parse_reply,
            template=self.template,
        )

    async def _one(self, item: dict, a: str, b: str, response_a: str, response_b: str) -> None:
        asks = [
            self._ask(item, a, b, "ab", response_a, response_b),
            self._ask(item, a, b, "ba", response_b, response_a),
        ]
        outcomes = await asyncio.gather(*(self.engine.run(ask, self.tried.get(ask.key, 0)) for ask in asks))
        if any(o.skipped for o in outcomes):
            return
        if any(o.call_failed for o in outcomes):  # nothing stored: the next run asks again
            self.counts["call_errors"] += 1
            return
        vote = self._vote(item, a, b, response_a, response_b, outcomes)
        with self.store.transaction():
            self.store.flush_log()
            self.store.save_llm_vote(vote)
            for ask, o in zip(asks, outcomes, strict=True):
                status = "done" if o.best else "failed"
                self.store.record_item(self.scope, ask.key, "pairwise", status, o.attempts, o.error, o.raw)
        ok = vote["status"] == "ok"
        self.counts["votes" if ok else "failed_votes"] += 1
        self.done, self.failed = self.done + 1, self.failed + (not ok)
        self.progress(self.done, self.total, self.failed)

    def _vote(self, item: dict, a: str, b: str, response_a: str, response_b: str, outcomes: list[Outcome]):
        """The vote row: both orders combined, or failed with the raw reply that never parsed."""
        parsed = {order: o.best.parsed for order, o in zip(ORDERS, outcomes, strict=True) if o.best}
        bad = next((o for o in outcomes if not o.best), None)
        vote = {
            "benchmark_id": self.bench["id"],
            "item_key": item["item_key"],
            "model_a": a,
            "model_b": b,
            "response_a": response_a,
            "response_b": response_b,
            "voter": self.voter,
            "blind": True,  # the judge sees "first" and "second", never the model names
            "template": self.template,
            "detail": {**parsed, "started_by": self.started_by},
            "status": "failed" if bad else "ok",
        }
        if bad:
            return vote | {"winner": None, "error": bad.error, "raw_output": bad.raw}
        winner = pairwise.combine(parsed["ab"]["winner"], parsed["ba"]["winner"])
        reason = f"A/B: {parsed['ab']['reason']} | B/A: {parsed['ba']['reason']}"
        return vote | {"winner": winner, "reason": reason}


def record_vote(
    store,
    *,
    benchmark: str | None,
    item_key: str | None,
    item: dict | None,
    model_a: str,
    model_b: str,
    response_a: str | None,
    response_b: str | None,
    winner: str,
    voter: str,
    blind: bool,
) -> int:
    """Store a person's vote on two responses (of a benchmark item, or an ad-hoc prompt when `benchmark`
    is None); returns its id."""
    if winner not in WINNERS:
        raise VoteError(f"A vote's winner must be one of {', '.join(WINNERS)}; got {winner!r}.")
    if not model_a or not model_b or model_a == model_b:
        raise VoteError(f"A vote compares two different models; got {model_a!r} and {model_b!r}.")
    if not voter:
        raise VoteError("A vote needs the voter's identity (the login, or the OS user in personal mode).")
    benchmark_id = _vote_target(store, benchmark, item_key, item)
    vote = {
        "benchmark_id": benchmark_id,
        "item_key": item_key or prompt_key(item["system_prompt"], item["messages"]),
        "item": item,
        "model_a": model_a,
        "model_b": model_b,
        "response_a": response_a,
        "response_b": response_b,
        "winner": winner,
        "voter": voter,
        "voter_kind": "human",
        "blind": bool(blind),
        "status": "ok",
    }
    return store.short_write(lambda: store.add_vote(vote), "this vote")


def _vote_target(store, benchmark: str | None, item_key: str | None, item: dict | None) -> int | None:
    """The benchmark id a vote belongs to (None: ad hoc), after checking the vote names its item."""
    if benchmark is None:
        if not item or "system_prompt" not in item or "messages" not in item:
            raise VoteError("A vote on an ad-hoc prompt needs the item: its system_prompt and messages.")
        return None
    benchmark_id = _benchmark_id(store, benchmark)
    if not item_key or not store.has_benchmark_item(benchmark_id, item_key):
        raise VoteError(f"Benchmark {benchmark!r} has no item {item_key!r}; vote on one of its items.")
    return benchmark_id


def _benchmark_id(store, name: str) -> int:
    row = store.benchmark_row(name)
    return row["id"] if row else load(store, name)["id"]  # load raises NotFound naming the known ones


def leaderboard(store, benchmark: str | None, voters: str = "all") -> dict:
    """Win rates, Bradley-Terry ratings and per-category win rates from the good votes on `benchmark`
    (the ad-hoc votes for None) by `voters` (all, human or llm); failed LLM votes are only counted."""
    if voters not in VOTERS:
        raise SettingError(f"voters must be one of {', '.join(VOTERS)}; got {voters!r}.")
    benchmark_id = None if benchmark is None else _benchmark_id(store, benchmark)
    every = store.votes(benchmark_id)
    rows = [r for r in every if VOTERS[voters] in (None, r["voter_kind"])]
    good = [r for r in rows if r["status"] == "ok"]
    votes = [{"model_a": r["model_a"], "model_b": r["model_b"], "winner": r["winner"]} for r in good]
    for v, r in zip(votes, good, strict=True):
        v["category"] = r["categories"]  # an item whose rules span several categories counts in each
    return {
        "benchmark": benchmark,
        "voters": voters,
        "models": sorted({m for v in votes for m in (v["model_a"], v["model_b"])}),
        "win_rates": ranking.win_rates(votes),
        "head_to_head": ranking.head_to_head(votes),
        "bradley_terry": ranking.bradley_terry(votes) if votes else [],
        "categories": ranking.category_win_rates(votes),
        "judge_human": judge_human([r for r in every if r["status"] == "ok"]),
        "votes": {
            "total": len(good),
            "human": sum(r["voter_kind"] == "human" for r in good),
            "llm": sum(r["voter_kind"] == "llm" for r in good),
        },
        "failed_votes": len(rows) - len(good),
    }


def judge_human(rows: list[dict]) -> dict:
    """Per LLM judge, its agreement with people on the same item, model pair and answers both voted on
    (people may have voted on answers given under other settings: those are other texts)."""
    people: dict[tuple, list[dict]] = {}
    for r in rows:
        if r["voter_kind"] == "human":
            people.setdefault(_judged_pair(r), []).append(r)
    pairs: dict[str, list[tuple[str, str]]] = {}
    for r in rows:
        if r["voter_kind"] != "llm":
            continue
        for h in people.get(_judged_pair(r), []):
            pairs.setdefault(r["voter"], []).append((r["winner"], _aligned(h, r["model_a"])))
    return {judge: ranking.judge_human_agreement(p) for judge, p in sorted(pairs.items())}


def _judged_pair(vote: dict) -> tuple:
    """What a vote judged: the item and each model with its answer, whichever side it was shown on."""
    sides = frozenset(((vote["model_a"], vote["response_a"]), (vote["model_b"], vote["response_b"])))
    return vote["item_key"], sides


def _aligned(vote: dict, model_a: str) -> str:
    """A person's winner as seen from the side where `model_a` is "a" (people saw sides at random)."""
    winner = vote["winner"]
    return winner if vote["model_a"] == model_a else {"a": "b", "b": "a"}.get(winner, winner)
