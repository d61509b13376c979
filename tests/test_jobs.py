"""Background jobs: start, watch, cancel and resume a run in a thread of this process."""

import asyncio
import json
import time

import pytest

from rnr_core.errors import NotFound, RnrError
from rnr_core.generate import RunConfig, execute_run, start_run
from rnr_core.jobs import JobRunner
from rnr_core.messages import stable_hash
from rnr_core.progress import Tracker
from rnr_core.store import Store
from tests.conftest import GOOD_SP, ingest_questions, one_group


def deterministic(messages, params):
    """The same request always gets the same answer, whichever run or process asks."""
    return GOOD_SP if params.json_schema else f"Answer {stable_hash([messages, params.seed])[:8]}"


CONFIG = RunConfig(dataset="d", model="scripted", n=12, k=3, rules=2, verifiable_share=0.0, seed=11)


def _wait_until(check, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def _sample_set(store, run_id: str) -> set:
    return {
        (s["item_key"], s["response"], json.dumps(s["messages"]))
        for s in store.list_samples(limit=1000, run_id=run_id)
    }


def test_generation_job_moves_cancels_and_resumes_to_the_uninterrupted_set(store, tmp_path, scripted):
    model = scripted(deterministic)
    model.delay = 0.03
    ingest_questions(store, tmp_path, 12)
    run_id = start_run(store, CONFIG)
    runner = JobRunner(store)
    job = runner.start("generate", run_id=run_id)
    _wait_until(lambda: runner.get(job)["progress"]["done"] >= 4)
    seen = runner.get(job)["progress"]
    assert seen["total"] == 24 and seen["rate"] > 0 and seen["eta_s"] > 0
    runner.cancel(job)
    cancelled = runner.wait(job, timeout=30)
    assert cancelled["status"] == "cancelled" and cancelled["ended_at"] is not None
    assert store.get_run(run_id)["status"] == "cancelled"
    stored = store.get_run(run_id)["counts"]["done"]
    assert 4 <= stored < 24, "the cancel should land mid-run"
    answered = {json.dumps([m, p.seed]) for m, p in model.answered}
    asked = len(model.requests)
    resumed = runner.wait(runner.start("generate", run_id=run_id), timeout=60)
    assert resumed["status"] == "completed", resumed["error"]
    assert resumed["progress"]["done"] == resumed["progress"]["total"] == 24
    assert resumed["result"]["status"] == "completed"
    again = [json.dumps([m, p.seed]) for m, p in model.requests[asked:]]
    assert answered.isdisjoint(again), "the resumed job paid again for an answered call"
    with Store(str(tmp_path / "straight.duckdb")) as other:
        ingest_questions(other, tmp_path, 12)
        straight = asyncio.run(execute_run(other, start_run(other, CONFIG)))
        assert _sample_set(store, run_id) == _sample_set(other, straight["id"])
        assert len(_sample_set(other, straight["id"])) == 20  # 12 plain, 4 tempting, 4 out of scope


def test_a_failing_job_ends_failed_with_its_error(store, tmp_path, scripted):
    runner = JobRunner(store)
    view = runner.wait(runner.start("generate", run_id="run-none"), timeout=10)
    assert view["status"] == "failed" and "No run 'run-none'" in view["error"]
    with pytest.raises(RnrError, match="Unknown job kind"):
        runner.start("dance")
    with pytest.raises(NotFound):
        runner.get("job-missing")


def test_judge_job_runs_in_the_background(store, tmp_path, scripted):
    scripted(deterministic)
    ingest_questions(store, tmp_path, 12)
    run_id = start_run(store, one_group(seed=3))
    asyncio.run(execute_run(store, run_id))

    def verdicts(messages, params):
        ids = params.json_schema["required"]
        return json.dumps({r: {"verdict": "pass", "rationale": "kept"} for r in ids})

    scripted(verdicts, spec="judge-model")
    runner = JobRunner(store)
    view = runner.wait(runner.start("judge", run_id=run_id, judge="judge-model"), timeout=30)
    assert view["status"] == "completed", view["error"]
    assert view["result"]["llm_verdicts"] == 6 and view["progress"]["done"] == 3


def test_tracker_gives_rate_and_eta_from_work_done_since_it_started():
    now = [100.0]
    tracker = Tracker(clock=lambda: now[0])
    tracker(10, 50)  # resumed with 10 already done
    now[0] = 110.0
    tracker(30, 50, failed=2)
    snap = tracker.snapshot()
    assert (snap["done"], snap["failed"], snap["total"]) == (30, 2, 50)
    assert snap["rate"] == pytest.approx(2.0) and snap["eta_s"] == pytest.approx(10.0)
    assert Tracker(clock=lambda: 5.0).snapshot()["eta_s"] is None
