"""Background jobs: generation, judging, evaluation and training in threads of a long-lived process.

The app starts a job, keeps only its id, and reads its progress from any thread. Cancelling is
cooperative: the job's task is cancelled on its own event loop, calls in flight are abandoned,
finished work is already stored, and the job's run can be resumed later with nothing lost.
"""

import asyncio
import threading
import traceback
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rnr_core.errors import NotFound, RnrError
from rnr_core.progress import Tracker
from rnr_core.secrets import scrub


def job_kinds() -> dict[str, Callable[..., Awaitable]]:
    """Each kind of background job: an async core function `fn(store, ..., progress=...)`."""
    from rnr_core.evaluate.compare import run_compare
    from rnr_core.evaluate.run import run_eval
    from rnr_core.generate import execute_run
    from rnr_core.ifeval.run import run_ifeval
    from rnr_core.judge import judge_samples
    from rnr_core.train import train_model

    return {
        "generate": execute_run,
        "judge": judge_samples,
        "ifeval": run_ifeval,
        "eval": run_eval,
        "compare": run_compare,
        "train": train_model,
    }


@dataclass
class Job:
    """One background job; `status` is running, completed, failed or cancelled."""

    id: str
    kind: str
    params: dict
    tracker: Tracker = field(default_factory=Tracker)
    status: str = "running"
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    ended_at: datetime | None = None
    result: object = None
    error: str | None = None
    error_app: str | None = None  # the error with its fix worded for the app's controls
    traceback: str | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _task: asyncio.Task | None = None
    _cancel: bool = False
    _ended: threading.Event = field(default_factory=threading.Event)

    def view(self) -> dict:
        """What a page shows: identity, state, timing, progress and how it ended."""
        return {
            "id": self.id,
            "kind": self.kind,
            "params": self.params,
            "status": self.status,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "error": self.error,
            "error_app": self.error_app,
            "result": self.result,
            "progress": self.tracker.snapshot(),
        }


class JobRunner:
    """Starts, watches and cancels jobs over one store, each in its own thread and event loop."""

    def __init__(self, store):
        self.store = store
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self.kinds = job_kinds()

    def start(self, kind: str, **params) -> str:
        if kind not in self.kinds:
            raise RnrError(f"Unknown job kind {kind!r}; choose one of {', '.join(self.kinds)}.")
        job = Job(f"job-{uuid.uuid4().hex[:10]}", kind, params)
        with self._lock:
            self._jobs[job.id] = job
        threading.Thread(target=self._work, args=(job,), name=job.id, daemon=True).start()
        return job.id

    def get(self, job_id: str) -> dict:
        return self._job(job_id).view()

    def list(self) -> list[dict]:
        with self._lock:
            jobs = list(self._jobs.values())
        return [j.view() for j in jobs]

    def cancel(self, job_id: str) -> None:
        """Ask the job to stop; it ends as 'cancelled' once its task has unwound."""
        job = self._job(job_id)
        with self._lock:
            job._cancel = True
            if job._loop is not None and job._task is not None:
                job._loop.call_soon_threadsafe(job._task.cancel)

    def wait(self, job_id: str, timeout: float | None = None) -> dict:
        """Block until the job ends (or the timeout passes); return its view."""
        self._job(job_id)._ended.wait(timeout)
        return self.get(job_id)

    def _job(self, job_id: str) -> Job:
        with self._lock:
            if job_id not in self._jobs:
                raise NotFound(f"No job {job_id!r} in this process.")
            return self._jobs[job_id]

    def _work(self, job: Job) -> None:
        store = self.store.for_thread()  # a DuckDB cursor must not cross threads
        try:
            job.result = asyncio.run(self._main(job, store))
            self._end(job, "completed")
        except asyncio.CancelledError:
            self._end(job, "cancelled")
        except Exception as exc:  # kept on the job with its traceback, shown by the page
            job.traceback = traceback.format_exc()
            if isinstance(exc, RnrError):
                job.error_app = exc.says("app")
            # Not every failure is one of ours, and a server may have echoed a key into any of them.
            self._end(job, "failed", scrub(f"{type(exc).__name__}: {exc}"))
        finally:
            store.close()

    async def _main(self, job: Job, store):
        with self._lock:
            job._loop, job._task = asyncio.get_running_loop(), asyncio.current_task()
            if job._cancel:
                job._task.cancel()
        await asyncio.sleep(0)  # a cancel that came before the start lands here
        return await self.kinds[job.kind](store, progress=job.tracker, **job.params)

    @staticmethod
    def _end(job: Job, status: str, error: str | None = None) -> None:
        job.status, job.error, job.ended_at = status, error, datetime.now(UTC)
        job._ended.set()
