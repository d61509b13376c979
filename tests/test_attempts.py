"""The attempt engine: one seed policy, every try logged with its outcome, reason and template."""

import asyncio

import pytest

from rnr_core.attempts import Ask, Engine, item_seed
from rnr_core.errors import InvalidOutput, ModelCallError
from rnr_core.generate import execute_run, start_run
from rnr_core.models.base import GenParams
from tests.conftest import GOOD_SP, ingest_questions, one_group


def _parse_number(raw: str) -> int:
    if not raw.isdigit():
        raise InvalidOutput("not a number", raw, "not_a_number")
    return int(raw)


def _engine(store, model, **kw) -> Engine:
    return Engine(store, model, "scope-1", seed_base=5, max_invalid=kw.pop("max_invalid", 2), **kw)


def test_invalid_replies_are_retried_with_the_next_seed_and_logged(store, scripted):
    model = scripted(["twelve", "12"])
    ask = Ask(
        "item-a",
        "count",
        [{"role": "user", "content": "How many?"}],
        GenParams(),
        _parse_number,
        template="count.v3",
    )
    outcome = asyncio.run(_engine(store, model).run(ask))
    assert outcome.best.parsed == 12 and outcome.attempts == 2
    base = item_seed(5, "item-a")
    assert [p.seed for _, p in model.requests] == [base, base + 1]
    log = store.attempt_log("scope-1", "item-a")
    assert [(r["attempt"], r["seed"], r["outcome"], r["reason"], r["template"]) for r in log] == [
        (1, base, "invalid", "not_a_number", "count.v3"),
        (2, base + 1, "ok", None, "count.v3"),
    ]
    assert log[0]["raw_output"] == "twelve"
    assert store.failure_reasons() == [
        {"stage": "count", "template": "count.v3", "outcome": "invalid", "reason": "not_a_number", "tries": 1}
    ]


def test_a_round_continues_after_earlier_tries_and_gives_up_with_the_raw_output(store, scripted):
    model = scripted(lambda m, p: "nope")
    ask = Ask("item-b", "count", [{"role": "user", "content": "How many?"}], GenParams(), _parse_number)
    outcome = asyncio.run(_engine(store, model, max_invalid=1).run(ask, start=3))
    assert outcome.best is None and outcome.raw == "nope" and "not a number" in outcome.error
    assert outcome.attempts == 5
    assert [p.seed for _, p in model.requests] == [item_seed(5, "item-b") + 3, item_seed(5, "item-b") + 4]


def test_a_failed_call_is_not_an_attempt_and_a_transient_one_stops_the_engine(store, scripted):
    model = scripted([ModelCallError("server down", transient=True)])
    engine = _engine(store, model)
    ask = Ask("item-c", "count", [{"role": "user", "content": "How many?"}], GenParams(), _parse_number)
    outcome = asyncio.run(engine.run(ask))
    assert outcome.call_failed and outcome.attempts == 0 and engine.abort is not None
    assert asyncio.run(engine.run(ask)).skipped
    assert [r["outcome"] for r in store.attempt_log("scope-1")] == ["error"]


F, T = False, True


@pytest.mark.parametrize(
    "checks, kept",
    [
        ([(F, F), (T, T), (T, T)], 2),  # the first passing try ends the search
        ([(F, F), (T, F), (F, T)], 2),  # none passes: the first of those passing the most rules
    ],
)
def test_rejection_sampling_keeps_the_first_pass_or_the_best_try(store, scripted, checks, kept):
    model = scripted(lambda m, p: str(p.seed))
    verdicts = iter(checks)
    ask = Ask(
        "item-d",
        "response",
        [{"role": "user", "content": "Go"}],
        GenParams(),
        _parse_number,
        check=lambda parsed: dict(zip(("r1", "r2"), next(verdicts))),
    )
    outcome = asyncio.run(_engine(store, model, rejections=2).run(ask))
    assert outcome.best.attempt == kept and outcome.best.parsed == item_seed(5, "item-d") + kept - 1
    assert len(outcome.tries) == (2 if kept == 2 and checks[1] == (T, T) else 3)
    outcomes = [r["outcome"] for r in store.attempt_log("scope-1", "item-d")]
    assert outcomes == ["failed_checks" if (F in c) else "ok" for c in checks[: len(outcome.tries)]]


def test_system_prompt_parse_failures_are_counted_per_template(store, tmp_path, scripted):
    ingest_questions(store, tmp_path, 3)
    replies = iter(["not json", GOOD_SP])
    scripted(lambda m, p: next(replies) if p.json_schema else "Short answer.")
    run = asyncio.run(execute_run(store, start_run(store, one_group())))
    assert run["status"] == "completed"
    reasons = store.failure_reasons("system_prompt")
    assert [(r["template"], r["outcome"], r["tries"]) for r in reasons] == [
        ("system_prompt.v2", "invalid", 1)
    ]


def test_a_failed_group_commit_is_raised_not_lost(store):
    from rnr_core.attempts import group_commit

    class Broken:
        """The first (background) flush fails; the final one succeeds."""

        calls = 0

        def flush_log(self):
            self.calls += 1
            if self.calls == 1:
                raise RuntimeError("disk full")

    async def work():
        async with group_commit(Broken(), every=0.01):
            await asyncio.sleep(0.05)

    with pytest.raises(RuntimeError, match="disk full"):
        asyncio.run(work())


def test_group_commit_runs_the_given_flush_in_the_background_and_at_the_end(store):
    from rnr_core.attempts import group_commit

    flushed = []

    async def work():
        async with group_commit(store, every=0.01, flush=lambda: flushed.append("x")):
            await asyncio.sleep(0.05)
            return len(flushed)

    during = asyncio.run(work())
    assert during >= 1 and len(flushed) == during + 1  # written while the work goes on, and at its end
