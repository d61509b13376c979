"""One account of a run: its state and counts agree with each other and with the store, whatever
way the run ended, and every view words them the same way."""

import asyncio
import json
import time

import pytest

from rnr_core import run_words
from rnr_core.errors import IngestError, ModelCallError
from rnr_core.generate import RunConfig, execute_run, start_run
from rnr_core.generate.plan import all_keys, plan_groups, resolve_gate, stage_totals
from rnr_core.ingest import ingest_file
from rnr_core.jobs import JobRunner
from rnr_core.runs import live_runs, run_state, run_states
from tests.conftest import GOOD_SP, ingest_questions

ELLIPSIS_SP = json.dumps(
    {
        "role": "You are ...",
        "rules": [
            {"text": "Answer in at most three sentences.", "category": "length"},
            {"text": "Never give medical advice.", "category": "safety"},
        ],
    }
)


def config(**kw) -> RunConfig:
    base = {"dataset": "d", "model": "scripted", "n": 6, "k": 3, "rules": 2, "verifiable_share": 0.0}
    return RunConfig(**{**base, **kw})


def answer(sp: str = GOOD_SP):
    return lambda messages, params: sp if params.json_schema else f"Reply {params.seed}"


def assert_consistent(store, state) -> None:
    """The state's numbers add up, and match what the store holds for the run."""
    run = store.get_run(state.id)
    items = state.items
    assert items.total == len(all_keys(RunConfig(**run["config"])))
    assert items.done + items.failed + items.left == items.total
    assert items.done == run["counts"].get("done", 0) and items.failed == run["counts"].get("failed", 0)
    assert state.samples == run["counts"]["samples"] == state.stages["response"].done
    assert state.tries == sum(i["attempts"] for i in store.run_items(state.id))
    if state.status != "running":
        assert state.eta_s is None and state.rate is None
        assert "left" not in run_words.summary(state)


@pytest.fixture
def dataset(store, tmp_path):
    return ingest_questions(store, tmp_path, 12)


def test_a_completed_run_counts_every_item_done(store, dataset, scripted):
    scripted(answer())
    run_id = start_run(store, config())
    asyncio.run(execute_run(store, run_id))
    state = run_state(store, run_id)
    assert_consistent(store, state)
    assert (state.status, state.items.left, state.items.failed, state.failures) == ("completed", 0, 0, ())
    assert state.stages["system_prompt"].total == 2 and state.samples == 10  # 6 plain, 2 tempting, 2 scope
    assert not state.can_resume and not state.retry_helps and run_words.next_step(state, "app") == ""
    assert run_words.summary(state) == "10 samples · 12 of 12 items done, 0 failed, 0 not tried"


def test_a_run_the_gate_refuses_says_why_and_that_resuming_would_not_help(store, dataset, scripted):
    scripted(answer(ELLIPSIS_SP))
    run_id = start_run(store, config(max_retries=1, quality_gate="on"))
    asyncio.run(execute_run(store, run_id))
    state = run_state(store, run_id)
    assert_consistent(store, state)
    assert state.status == "failed" and state.samples == 0 and state.tries == 4  # 2 prompts x 2 replies
    assert (state.stages["system_prompt"].failed, state.stages["response"].left) == (2, 10)
    assert [(f.stage, f.reason, f.count) for f in state.failures] == [("system_prompt", "ellipsis", 2)]
    assert not state.retry_helps and state.can_resume
    app = run_words.failure_lines(state, "app")
    assert app[0] == "2 system prompts refused by the quality gate: '...' standing for content"
    assert "10 responses not tried, because their system prompt failed" in app
    assert any("'Quality gate'" in line and "sidebar" in line for line in app)
    assert not any("--" in line for line in app), app  # the app names its controls, not CLI flags
    assert any("--quality-gate off" in line for line in run_words.failure_lines(state, "cli"))
    assert "would likely fail the same way" in run_words.next_step(state, "app")


def test_failures_the_model_got_past_elsewhere_are_worth_a_retry(store, dataset, scripted):
    scripted(
        lambda m, p: (ELLIPSIS_SP if "number 1?" in m[-1]["content"] else GOOD_SP) if p.json_schema else "ok"
    )
    run_id = start_run(store, config(n=12, k=1, max_retries=0, tempting=False, out_of_scope=False, seed=3))
    asyncio.run(execute_run(store, run_id))
    state = run_state(store, run_id)
    assert_consistent(store, state)
    assert state.status == "failed" and state.stages["system_prompt"].failed == 1
    assert state.retry_helps and "Resume run" in run_words.next_step(state, "app")
    assert run_words.next_step(state, "cli") == f"Resume with: rnr generate --resume {run_id}"


def test_a_cancelled_run_has_no_eta_and_adds_up(store, dataset, scripted):
    model = scripted(answer())
    model.delay = 0.05
    run_id = start_run(store, config(n=12))
    runner = JobRunner(store)
    job = runner.start("generate", run_id=run_id)
    deadline = time.monotonic() + 30
    while store.run_counts(run_id).get("done", 0) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    live = run_state(store, run_id, live_runs(runner))
    assert live.status == "running" and live.job_id == job
    assert live.rate and live.eta_s is not None and "left" in run_words.summary(live)
    runner.cancel(job)
    runner.wait(job, timeout=30)
    state = run_state(store, run_id, live_runs(runner))
    assert_consistent(store, state)
    assert state.status == "cancelled" and 0 < state.items.left < state.items.total
    assert state.retry_helps and run_words.picker_label(state).startswith(
        f"{run_id} · d · scripted · started "
    )
    assert run_words.picker_label(state) == run_words.picker_label(live)  # a label that cannot go stale


def test_a_run_recorded_running_without_a_live_job_is_stopped_and_resumable(store, dataset, scripted):
    scripted(answer())
    run_id = start_run(store, config())  # recorded 'running'; the process that ran it is gone
    (state,) = run_states(store, live_runs(JobRunner(store)))
    assert state.id == run_id
    assert_consistent(store, state)
    assert (state.status, state.items.left, state.can_resume, state.retry_helps) == (
        "stopped",
        12,
        True,
        True,
    )
    assert "stopped before finishing" in run_words.headline(state)


def test_a_failed_call_names_the_fix_for_each_edge(store, dataset, scripted):
    timeout = ModelCallError("http://x/v1 did not answer within the 1 s timeout.", True, hint="timeout")
    scripted(lambda m, p: timeout)
    run_id = start_run(store, config())
    asyncio.run(execute_run(store, run_id))
    state = run_state(store, run_id)
    assert_consistent(store, state)
    assert state.error_hint == "timeout" and {f.reason for f in state.failures} == {"call"}
    app, cli = run_words.failure_lines(state, "app"), run_words.failure_lines(state, "cli")
    assert any("Raise 'Timeout (s)' in the sidebar" in line for line in app)
    assert not any("--timeout" in line for line in app) and any("--timeout" in line for line in cli)
    assert state.retry_helps
    assert all(i["error"] == timeout.what for i in store.run_items(run_id, "failed"))


@pytest.mark.parametrize("tempting", [True, False])
@pytest.mark.parametrize("out_of_scope", [True, False])
@pytest.mark.parametrize("n, k", [(1, 1), (7, 3), (12, 5)])
def test_stage_totals_count_the_keys_the_plan_makes(tempting, out_of_scope, n, k):
    planned = plan_groups(config(n=n, k=k, tempting=tempting, out_of_scope=out_of_scope), list(range(40)))
    keys = all_keys(planned)
    totals = stage_totals(planned.as_dict())
    assert totals == {
        "system_prompt": sum(k.endswith(":system") for k in keys),
        "response": sum(not k.endswith(":system") for k in keys),
    }


def test_the_auto_gate_is_off_only_for_the_embedded_model():
    assert resolve_gate("auto", "local") is False
    assert resolve_gate("auto", "openai:gpt-4o-mini") is True
    assert resolve_gate("on", "local") is True and resolve_gate("off", "openai:x") is False
    assert plan_groups(config(model="openai:x"), list(range(6))).quality_gate is True


def test_ingest_errors_name_the_app_controls_in_the_app(store, tmp_path):
    path = tmp_path / "nohead.csv"
    path.write_text("What is 2+2?,four\nName a colour.,red\n")
    with pytest.raises(IngestError) as info:
        ingest_file(store, path, "d")
    assert "--column NAME" in str(info.value)
    assert "'Column'" in info.value.says("app") and "--" not in info.value.says("app")
    result = ingest_file(store, path, "d", "csv-no-header", "column 1")
    assert result.added == 2


def test_a_failed_connection_test_speaks_of_no_run(tmp_path):
    from rnr_core.models.connection import ModelSettings, check_connection
    from tests.conftest import free_port

    result = asyncio.run(
        check_connection(
            ModelSettings(base_url=f"http://127.0.0.1:{free_port()}/v1", model="m", endpoint=True)
        )
    )
    assert not result["ok"] and "Cannot reach" in result["error"]
    assert "resume" not in result["error"].lower()


def test_a_run_records_who_started_it_and_every_view_says_so(store, dataset, scripted):
    scripted(answer())
    anon = run_state(store, start_run(store, config()))
    run_id = start_run(store, config(), started_by="ana@example.com")
    state = run_state(store, run_id)
    assert store.get_run(run_id)["started_by"] == state.started_by == "ana@example.com"
    assert [r["started_by"] for r in store.list_runs() if r["id"] == run_id] == ["ana@example.com"]
    assert run_words.picker_label(state).endswith(" by ana@example.com")
    assert run_words.table_row(state)["started by"] == "ana@example.com"
    assert anon.started_by is None and " by " not in run_words.picker_label(anon)
