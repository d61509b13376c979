"""Pipeline logic with a scripted model: retries, failures, resume and the cache."""

import asyncio
import json

import pytest

from rnr_core.errors import ModelCallError, NotFound, RnrError
from rnr_core.generate import RunConfig, execute_run, start_run
from rnr_core.generate.plan import all_keys, plan_groups
from rnr_core.ingest import ingest_file
from tests.conftest import GOOD_SP


def smart(messages, params):
    """Valid JSON when asked for a system prompt, a short reply otherwise."""
    return GOOD_SP if params.json_schema else f"Reply {params.seed}"


@pytest.fixture
def dataset(store, tmp_path):
    rows = [{"instruction": f"Question number {i}?"} for i in range(10)]
    rows.append(
        {
            "messages": [
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello"},
                {"role": "user", "content": "Now explain tides."},
            ]
        }
    )
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows[:10]))
    ingest_file(store, path, "d")
    chat = tmp_path / "chat.jsonl"
    chat.write_text(json.dumps(rows[10]) + "\n")
    ingest_file(store, chat, "d")
    return "d"


def config(**kw):
    # Free-form rules only: these tests are about scheduling, retries and resume.
    return RunConfig(
        **{"dataset": "d", "model": "scripted", "n": 6, "k": 3, "rules": 2, "verifiable_share": 0.0, **kw}
    )


def test_plan_is_seeded_and_groups_by_k():
    ids = list(range(100, 120))
    a, b = plan_groups(config(n=7, seed=0), ids), plan_groups(config(n=7, seed=0), ids)
    assert a.groups == b.groups and [len(g) for g in a.groups] == [3, 3, 1]
    assert plan_groups(config(n=7, seed=1), ids).groups != a.groups
    for g, outsider in enumerate(a.outsiders):
        assert outsider not in a.groups[g]
    with pytest.raises(RnrError, match="has 20 instructions"):
        plan_groups(config(n=21), ids)


def test_full_run_makes_plain_tempting_and_scope_samples(store, dataset, scripted):
    model = scripted(smart)
    run = asyncio.run(execute_run(store, start_run(store, config())))
    assert run["status"] == "completed"
    samples = store.list_samples(limit=100)
    kinds = sorted(s["kind"] for s in samples)
    assert kinds == ["out_of_scope"] * 2 + ["plain"] * 6 + ["tempting"] * 2
    assert run["counts"] == {"done": 12, "samples": 10}
    tempting = next(s for s in samples if s["kind"] == "tempting")
    # the follow-up continues the group's first conversation, which may itself be multi-turn
    base = next(s for s in samples if s["item_key"] == tempting["item_key"].replace("tempting", "r0"))
    assert tempting["messages"][:-1] == [
        *base["messages"],
        {"role": "assistant", "content": base["response"]},
    ]
    assert tempting["messages"][-1]["role"] == "user"
    assert tempting["target_rule"] in {"r1", "r2"}
    rule_text = {r["id"]: r["text"].rstrip(".") for r in tempting["rules"]}[tempting["target_rule"]]
    assert rule_text in tempting["messages"][-1]["content"]
    # the teacher sees the system prompt plus guidance; the sample keeps the plain prompt
    response_requests = [m for m, p in model.requests if p.json_schema is None]
    assert all(m[0]["role"] == "system" and "Rules:" in m[0]["content"] for m in response_requests)
    assert samples[0]["system_prompt"].startswith("You are a patient cooking tutor.\n\nRules:\n1. ")
    assert samples[0]["params"]["seed"] == samples[0]["seed"]


def test_multi_turn_sources_keep_earlier_turns(store, dataset, scripted):
    scripted(smart)
    asyncio.run(execute_run(store, start_run(store, config(n=11, k=11, tempting=False, out_of_scope=False))))
    multi = [s for s in store.list_samples(limit=100) if len(s["messages"]) > 1]
    assert [m["content"] for m in multi[0]["messages"]] == ["Hi", "Hello", "Now explain tides."]


def test_invalid_json_is_retried_then_stored_with_raw_output(store, dataset, scripted):
    model = scripted(lambda m, p: "not json {" if p.json_schema else "ok")
    run = asyncio.run(execute_run(store, start_run(store, config(n=3, max_retries=2))))
    assert run["status"] == "failed" and "6 item(s) not done" in run["error"]
    sp_calls = [p for _, p in model.requests if p.json_schema]
    assert len(sp_calls) == 3 and len({p.seed for p in sp_calls}) == 3  # retries are new requests
    failed = store.run_items(run["id"], "failed")
    assert failed[0]["raw_output"] == "not json {" and "not JSON" in failed[0]["error"]
    assert failed[0]["attempts"] == 3
    assert store.list_samples() == []


def test_schema_violation_then_success_on_retry(store, dataset, scripted):
    answers = iter([json.dumps({"role": "You are X, a helper.", "rules": []}), GOOD_SP])
    scripted(lambda m, p: next(answers) if p.json_schema else "fine")
    run = asyncio.run(execute_run(store, start_run(store, config(n=3, tempting=False, out_of_scope=False))))
    assert run["status"] == "completed"
    system_item = next(i for i in store.run_items(run["id"]) if i["item_key"].endswith("system"))
    assert system_item["attempts"] == 2


def test_failed_items_resume_and_cache_saves_repeat_calls(store, dataset, scripted):
    broken = scripted(lambda m, p: "garbage" if p.json_schema else "ok")
    run_id = start_run(store, config(max_retries=0))
    assert asyncio.run(execute_run(store, run_id))["status"] == "failed"
    fixed = scripted(smart)
    run = asyncio.run(execute_run(store, run_id))
    assert run["status"] == "completed" and run["counts"]["samples"] == 10
    assert len(fixed.requests) > 0 and len(broken.requests) == 2
    again = scripted(smart)
    assert asyncio.run(execute_run(store, run_id))["status"] == "completed"
    assert again.requests == []  # everything done: nothing re-asked
    assert store._scalar("SELECT count(*) FROM samples") == 10


def test_cache_answers_a_repeated_request_without_calling(store, dataset, scripted):
    first = scripted(smart)
    run_a = asyncio.run(execute_run(store, start_run(store, config(seed=5))))
    second = scripted(smart)
    run_b = asyncio.run(execute_run(store, start_run(store, config(seed=5))))  # same plan, same seeds
    assert run_b["status"] == "completed" and second.requests == []
    assert len(first.requests) == store._scalar("SELECT count(*) FROM llm_calls")
    assert run_a["counts"]["samples"] == run_b["counts"]["samples"]


def test_unreachable_backend_stops_the_run_which_resumes_with_the_same_seeds(store, dataset, scripted):
    down = scripted(lambda m, p: ModelCallError("Cannot reach http://127.0.0.1:9/v1", transient=True))
    run_id = start_run(store, config())
    run = asyncio.run(execute_run(store, run_id))
    assert run["status"] == "failed" and "Cannot reach" in run["error"]
    assert len(down.requests) == 2  # one per group in flight; nothing new started after that
    assert store._scalar("SELECT count(*) FROM llm_calls WHERE status = 'error'") == 2
    up = scripted(smart)
    assert asyncio.run(execute_run(store, run_id))["status"] == "completed"
    assert {p.seed for _, p in up.requests if p.json_schema} == {p.seed for _, p in down.requests}


def test_a_refused_request_fails_only_its_own_item(store, dataset, scripted):
    def refuse_one(messages, params):
        if "Question number" in messages[-1]["content"] and messages[-1]["content"].endswith("3?"):
            return ModelCallError("400: context window exceeded")
        return smart(messages, params)

    scripted(refuse_one)
    run = asyncio.run(
        execute_run(store, start_run(store, config(n=10, k=5, seed=4, tempting=False, out_of_scope=False)))
    )
    failed = store.run_items(run["id"], "failed")
    assert run["status"] == "failed" and [i["error"] for i in failed] == ["400: context window exceeded"]
    assert run["counts"]["samples"] == 9  # every other item went ahead


def test_bad_settings_are_refused_before_a_run_starts(store, dataset, scripted):
    scripted(smart)
    for bad in ({"max_retries": -1}, {"k": 0}, {"max_tokens": 0}):
        with pytest.raises(RnrError):
            start_run(store, config(**bad))
    assert store.list_runs() == []


def test_unknown_dataset_and_run(store, scripted):
    scripted(smart)
    with pytest.raises(NotFound, match="rnr ingest"):
        start_run(store, config(dataset="nope"))
    with pytest.raises(NotFound, match="rnr runs"):
        asyncio.run(execute_run(store, "run-missing"))


def test_progress_reports_every_item(store, dataset, scripted):
    scripted(smart)
    seen = []
    run_id = start_run(store, config())
    asyncio.run(execute_run(store, run_id, lambda done, total, failed=0: seen.append((done, total))))
    total = len(all_keys(RunConfig(**store.get_run(run_id)["config"])))
    assert seen[0] == (0, total) and seen[-1] == (total, total)


def test_runs_without_a_seed_draw_and_record_one(store, dataset, scripted):
    scripted(smart)
    seeds = {store.get_run(start_run(store, config()))["config"]["seed"] for _ in range(3)}
    assert len(seeds) == 3 and all(isinstance(s, int) for s in seeds)


def test_cli_generate_options_take_their_defaults_from_run_config():
    from rnr_core.cli import _run_config, build_parser

    parse = build_parser().parse_args
    assert _run_config(parse(["generate", "--dataset", "d"])) == RunConfig(dataset="d")
    given = parse(["generate", "--dataset", "d", "-n", "5", "--temperature", "0.2", "--no-tempting"])
    assert _run_config(given) == RunConfig(dataset="d", n=5, temperature=0.2, tempting=False)
