"""Comparing models: the pairwise judge in both orders, failed votes, people's votes, the leaderboard."""

import asyncio
import json

import pytest

from rnr_core.errors import ModelCallError, ModelSpecError, NotFound, SettingError, VoteError
from rnr_core.evaluate.benchmark import freeze, load
from rnr_core.evaluate.compare import leaderboard, record_vote, run_compare
from rnr_core.evaluate.report import eval_report
from rnr_core.evaluate.run import run_eval
from rnr_core.jobs import JobRunner, job_kinds

QUESTIONS = ["How do I boil an egg?", "How do I toast bread?", "How do I brew tea?"]
RULES = [
    {"id": "r1", "text": "Answer in one sentence.", "category": "length"},
    {"id": "r2", "text": "Stay polite.", "category": "style"},
]


@pytest.fixture
def bench(store, tmp_path) -> str:
    """A benchmark of three items frozen from a file, each with a length and a style rule."""
    path = tmp_path / "bench.jsonl"
    lines = [
        {"messages": [{"role": "system", "content": "You are a cook."}, {"role": "user", "content": q}]}
        | {"rules": RULES}
        for q in QUESTIONS
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    freeze(store, "cooking", file=path)
    return "cooking"


def answers(name: str, fail_on: str | None = None):
    """A model answering "<name> says: <question>"; an empty (failed) answer to `fail_on`."""

    def answer(messages, params):
        question = messages[-1]["content"]
        return "" if question == fail_on else f"{name} says: {question}"

    return answer


def prefers(*names: str, bad_on: str | None = None):
    """A pairwise judge picking the reply by the first of `names` it shows (always "A" with no names:
    inconsistent across orders); a reply that never parses on the item whose question is `bad_on`."""

    def judge(messages, params):
        text = messages[0]["content"]
        if bad_on and bad_on in text:
            return "I cannot decide"
        if not names:
            return json.dumps({"winner": "A", "reason": "first looks fine"})
        name = next(n for n in names if f"{n} says" in text)
        first = text.index("Reply A:") < text.index(f"{name} says") < text.index("Reply B:")
        return json.dumps({"winner": "A" if first else "B", "reason": f"{name} follows the rules"})

    return judge


@pytest.fixture
def two(scripted):
    scripted(answers("Xavier"), spec="model-x")
    scripted(answers("Yvonne"), spec="model-y")


def compare(store, judge="judge", models=("model-x", "model-y"), **kw):
    return asyncio.run(run_compare(store, "cooking", list(models), judge, max_tokens=64, **kw))


def test_both_orders_are_asked_and_a_consistent_preference_wins(store, bench, two, scripted):
    judge = scripted(prefers("Xavier"), spec="judge")
    board = compare(store, started_by="ana")
    assert len(judge.requests) == 6  # 3 items x 1 pair x 2 orders
    for q in QUESTIONS:
        texts = [m[0]["content"] for m, _ in judge.requests if q in m[0]["content"]]
        firsts = sorted(t.index("Xavier says") < t.index("Yvonne says") for t in texts)
        assert firsts == [False, True]  # once with each model shown first
        assert "Answer in one sentence." in texts[0] and "You are a cook." in texts[0]
    votes = store.votes(load(store, "cooking")["id"])
    assert [(v["model_a"], v["model_b"], v["winner"], v["status"]) for v in votes] == [
        ("model-x", "model-y", "a", "ok")
    ] * 3
    assert all(v["voter"] == "llm:judge" and v["voter_kind"] == "llm" and v["blind"] for v in votes)
    assert votes[0]["detail"]["ab"]["winner"] == "A" and votes[0]["detail"]["ba"]["winner"] == "B"
    assert votes[0]["detail"]["started_by"] == "ana" and votes[0]["template"] == "pairwise.v1"
    assert board["votes"] == {"total": 3, "human": 0, "llm": 3} and board["failed_votes"] == 0
    assert board["win_rates"]["model-x"]["rate"] == 1.0 and board["win_rates"]["model-y"]["rate"] == 0.0
    assert [r["model"] for r in board["bradley_terry"]] == ["model-x", "model-y"]
    assert set(board["categories"]) == {"length", "style"}
    assert board["run"]["votes"] == 3
    # a rerun skips every good vote
    again = compare(store)
    assert len(judge.requests) == 6 and again["run"]["already_done"] == 3


def answer_calls(model) -> int:
    return sum(1 for _, p in model.requests if not p.json_schema)


def test_compare_reuses_a_judged_evaluations_answers_and_never_hides_it(store, bench, scripted):
    def judged(name):
        def answer(messages, params):
            if params.json_schema:
                ids = params.json_schema["required"]
                return json.dumps({r: {"verdict": "pass", "rationale": "ok"} for r in ids})
            return answers(name)(messages, params)

        return answer

    x, y = scripted(judged("Xavier"), spec="model-x"), scripted(judged("Yvonne"), spec="model-y")
    asyncio.run(run_eval(store, "cooking", ["model-x", "model-y"], "model-x", max_tokens=128))
    before = eval_report(store, "cooking", "model-x")
    calls = answer_calls(x), answer_calls(y)
    scripted(prefers("Xavier"), spec="judge")
    board = asyncio.run(run_compare(store, "cooking", ["model-x", "model-y"], "judge"))
    assert (answer_calls(x), answer_calls(y)) == calls  # the evaluation's answers (128 tokens) reused
    assert board["votes"]["total"] == 3
    after = eval_report(store, "cooking", "model-x")
    assert after["eval_id"] == before["eval_id"] and after["params"]["max_tokens"] == 128
    assert (after["judge"], after["pass_rate"]["n"], after["pass_rate"]["rate"]) == ("llm:model-x", 3, 1.0)
    # answers under other settings, asked for explicitly, are a new evaluation that hides nothing
    asyncio.run(run_compare(store, "cooking", ["model-x", "model-y"], "judge", max_tokens=64))
    assert answer_calls(x) == calls[0] + 3
    assert eval_report(store, "cooking", "model-x")["eval_id"] == before["eval_id"]


def test_compare_limit_takes_the_first_items(store, bench, two, scripted):
    judge = scripted(prefers("Xavier"), spec="judge")
    board = compare(store, limit=2)
    assert len(judge.requests) == 4 and board["votes"]["total"] == 2
    assert board["run"]["skipped_items"] == 0
    keys = {v["item_key"] for v in store.votes(load(store, "cooking")["id"])}
    assert keys == {it["item_key"] for it in load(store, "cooking")["items"][:2]}


def test_compare_runs_as_a_background_job(store, bench, two, scripted):
    scripted(prefers("Yvonne"), spec="judge")
    runner = JobRunner(store)
    params = {"benchmark": "cooking", "models": ["model-x", "model-y"], "judge": "judge", "max_tokens": 64}
    job = runner.wait(runner.start("compare", **params), timeout=60)
    assert job["status"] == "completed", job["error"]
    assert job["result"]["win_rates"]["model-y"]["wins"] == 3
    assert job["progress"]["done"] == job["progress"]["total"] == 3


def test_an_inconsistent_pair_is_a_tie(store, bench, two, scripted):
    scripted(prefers(), spec="judge")
    board = compare(store)
    assert board["win_rates"]["model-x"] | {"ci95": None} == {
        "wins": 0,
        "losses": 0,
        "ties": 3,
        "n": 3,
        "rate": 0.5,
        "ci95": None,
    }


def test_an_unparsable_reply_is_retried_then_a_failed_vote_not_a_tie_and_a_rerun_retries_only_it(
    store, bench, two, scripted
):
    bad = scripted(prefers("Xavier", bad_on=QUESTIONS[1]), spec="judge")
    board = compare(store, max_retries=1)
    # 2 items x 2 orders parse at once; the bad item's 2 orders are each tried twice
    assert len(bad.requests) == 4 + 4
    assert board["failed_votes"] == 1 and board["votes"]["total"] == 2
    assert board["win_rates"]["model-x"]["n"] == 2  # the failed vote is not counted, not a tie
    failed = [v for v in store.votes(load(store, "cooking")["id"]) if v["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["winner"] is None
    assert failed[0]["raw_output"] == "I cannot decide" and "not JSON" in failed[0]["error"]
    assert QUESTIONS[1] in failed[0]["response_a"]
    good = scripted(prefers("Yvonne"), spec="judge")
    board = compare(store)
    assert len(good.requests) == 2 and all(QUESTIONS[1] in m[0]["content"] for m, _ in good.requests)
    # the retried vote replaces the failed one: one vote per item and pair
    assert board["failed_votes"] == 0 and board["votes"]["total"] == 3
    assert board["win_rates"]["model-y"]["wins"] == 1
    # the ledger continues the failed ask's tries with fresh seeds rather than repeating them
    assert {p.seed for _, p in good.requests}.isdisjoint({p.seed for _, p in bad.requests[4:]})


def test_items_a_model_failed_on_are_skipped_and_counted(store, bench, scripted):
    scripted(answers("Xavier"), spec="model-x")
    scripted(answers("Yvonne", fail_on=QUESTIONS[2]), spec="model-y")
    scripted(answers("Zoe"), spec="model-z")
    judge = scripted(prefers("Zoe", "Xavier"), spec="judge")
    board = compare(store, models=("model-z", "model-x", "model-y", "model-x"))
    assert board["run"]["skipped_items"] == 1
    # 3 pairs on the two good items, and the x-z pair on the third: 7 votes, 14 requests
    assert board["votes"]["total"] == 7 and len(judge.requests) == 14
    assert board["win_rates"]["model-z"]["rate"] == 1.0
    assert board["bradley_terry"][0]["model"] == "model-z"


def test_a_transient_judge_failure_stops_with_work_saved(store, bench, two, scripted):
    scripted(lambda m, p: ModelCallError("connection refused", transient=True), spec="judge")
    with pytest.raises(ModelCallError, match="votes so far are saved; comparing again continues"):
        compare(store)
    assert store.votes(load(store, "cooking")["id"]) == []
    scripted(prefers("Xavier"), spec="judge")
    assert compare(store)["votes"]["total"] == 3  # the answers were kept: only judging remains


def test_bad_input_fails_before_any_call(store, bench, scripted):
    x = scripted(answers("Xavier"), spec="model-x")
    with pytest.raises(SettingError, match="at least two different models; got model-x"):
        compare(store, models=("model-x", "model-x"))
    with pytest.raises(NotFound, match="No benchmark 'nope' \\(known: cooking\\)"):
        asyncio.run(run_compare(store, "nope", ["model-x", "local"], "local"))
    with pytest.raises(ModelSpecError, match="Unknown model spec 'nosuch:thing'"):
        compare(store, models=("model-x", "nosuch:thing"))
    with pytest.raises(ModelSpecError, match="'bad-judge'"):
        compare(store, judge="bad-judge", models=("model-x", "local"))
    assert x.requests == []
    assert job_kinds()["compare"] is run_compare


def vote(store, **kw):
    base = dict(
        benchmark=None,
        item_key=None,
        item={"system_prompt": "You are a cook.", "messages": [{"role": "user", "content": "Eggs?"}]},
        model_a="model-x",
        model_b="model-y",
        response_a="Boil them.",
        response_b="Fry them.",
        winner="a",
        voter="ana",
        blind=True,
    )
    return record_vote(store, **(base | kw))


@pytest.mark.parametrize(
    "change, message",
    [
        ({"winner": "A"}, "winner must be one of a, b, tie, both_bad; got 'A'"),
        ({"winner": None}, "winner must be one of"),
        ({"model_b": "model-x"}, "two different models; got 'model-x' and 'model-x'"),
        ({"model_a": ""}, "two different models"),
        ({"voter": ""}, "needs the voter's identity"),
        ({"item": None}, "ad-hoc prompt needs the item"),
        ({"item": {"system_prompt": "x"}}, "ad-hoc prompt needs the item"),
        ({"benchmark": "cooking", "item_key": "i-nope"}, "Benchmark 'cooking' has no item 'i-nope'"),
    ],
)
def test_peoples_votes_are_validated_and_nothing_is_written(store, bench, change, message):
    with pytest.raises(VoteError, match=message):
        vote(store, **change)
    assert store.votes(None) == [] and store.votes(load(store, "cooking")["id"]) == []


def test_peoples_votes_are_recorded_with_voter_and_blind(store, bench):
    with pytest.raises(NotFound, match="No benchmark 'nope'"):
        vote(store, benchmark="nope", item_key="i-x")
    first = vote(store)
    key = load(store, "cooking")["items"][0]["item_key"]
    second = vote(
        store, benchmark="cooking", item_key=key, item=None, winner="both_bad", blind=False, voter="bo"
    )
    assert second > first
    adhoc = store.votes(None)
    assert [(v["voter"], v["voter_kind"], v["blind"], v["winner"]) for v in adhoc] == [
        ("ana", "human", True, "a")
    ]
    assert adhoc[0]["item"]["messages"][0]["content"] == "Eggs?" and adhoc[0]["item_key"]
    on_bench = store.votes(load(store, "cooking")["id"], voter_kind="human")
    assert [(v["voter"], v["blind"], v["winner"], v["item_key"]) for v in on_bench] == [
        ("bo", False, "both_bad", key)
    ]
    assert on_bench[0]["categories"] == ["length", "style"]


def test_leaderboard_numbers_on_a_hand_tournament(store):
    # model-x against model-y: 3 wins, 1 loss, 1 tie, 1 both bad (ties and both bad are half a win each)
    for winner, a, b in [("a", "x", "y"), ("a", "x", "y"), ("b", "y", "x"), ("a", "y", "x")]:
        vote(store, winner=winner, model_a=f"model-{a}", model_b=f"model-{b}")
    vote(store, winner="tie")
    vote(store, winner="both_bad", blind=False)
    board = leaderboard(store, None)
    x, y = board["win_rates"]["model-x"], board["win_rates"]["model-y"]
    assert (x["wins"], x["losses"], x["ties"], x["n"]) == (3, 1, 2, 6) and x["rate"] == pytest.approx(4 / 6)
    assert (y["wins"], y["losses"], y["ties"], y["n"]) == (1, 3, 2, 6) and y["rate"] == pytest.approx(2 / 6)
    # Bradley-Terry on two models: strength ratio = 4 half-counted wins / 2 = 2, so 400 * log10(2) apart
    bt = {r["model"]: r["rating"] for r in board["bradley_terry"]}
    assert bt["model-x"] - bt["model-y"] == pytest.approx(400 * 0.30103, abs=1.0)
    assert (bt["model-x"] + bt["model-y"]) / 2 == pytest.approx(1000)
    assert board["votes"] == {"total": 6, "human": 6, "llm": 0} and board["models"] == ["model-x", "model-y"]
    assert leaderboard(store, None, voters="llm")["votes"]["total"] == 0
    with pytest.raises(SettingError, match="voters must be one of all, human, llm"):
        leaderboard(store, None, voters="robots")


def test_leaderboard_compares_the_llm_judge_with_people_on_the_same_pairs(store, bench, two, scripted):
    scripted(prefers("Xavier"), spec="judge")
    compare(store)
    keys = [it["item_key"] for it in load(store, "cooking")["items"]]

    def person(i, winner, x_said=None):
        said = {
            "response_a": f"Yvonne says: {QUESTIONS[i]}",
            "response_b": x_said or f"Xavier says: {QUESTIONS[i]}",
        }
        vote(
            store,
            benchmark="cooking",
            item_key=keys[i],
            model_a="model-y",
            model_b="model-x",
            winner=winner,
            **said,
        )

    # people saw the sides swapped: "b" is model-x here, so the first agrees with the judge
    person(0, "b")
    person(1, "a")
    person(
        2, "a", x_said="Xavier, asked with other settings, said something else."
    )  # other texts: not paired
    board = leaderboard(store, "cooking")
    agreement = board["judge_human"]["llm:judge"]
    assert agreement["n"] == 2 and agreement["accuracy"] == 0.5
    assert board["votes"] == {"total": 6, "human": 3, "llm": 3}
    people = leaderboard(store, "cooking", voters="human")
    assert people["win_rates"]["model-x"]["wins"] == 1 and people["votes"]["total"] == 3


def test_the_embedded_model_judges_a_pair(store, tmp_path, two):
    path = tmp_path / "one.jsonl"
    line = {"messages": [{"role": "system", "content": "You are a cook."}]}
    line["messages"].append({"role": "user", "content": QUESTIONS[0]})
    path.write_text(json.dumps(line | {"rules": RULES}) + "\n")
    freeze(store, "cooking", file=path)
    board = compare(store, judge="local")
    [v] = store.votes(load(store, "cooking")["id"])
    assert v["voter"] == "llm:local" and v["status"] in ("ok", "failed")
    if v["status"] == "ok":
        assert v["winner"] in ("a", "b", "tie") and board["votes"]["total"] == 1
    else:
        assert v["raw_output"] and v["error"] and board["failed_votes"] == 1
