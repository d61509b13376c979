"""A generation run's state and counts: one account, built from the store and this process's jobs.

Every view of a run (the Generate page, its job panel and failed items, Home's table, `rnr runs`)
reads a `RunState` and words it with rnr_core.run_words, so they cannot disagree. The store is the
source of truth for counts; the live job adds only what the store cannot know: whether the run is
being worked on now, and how fast.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from rnr_core.generate.plan import stage_totals

STAGES = ("system_prompt", "response")
RESUMABLE = ("failed", "cancelled", "stopped")


@dataclass(frozen=True)
class Items:
    """Items of work (a system prompt, or one response): how many, and how they stand."""

    total: int = 0
    done: int = 0
    failed: int = 0

    @property
    def left(self) -> int:
        """Not tried yet: waiting, or blocked by a failed system prompt."""
        return max(self.total - self.done - self.failed, 0)

    def __add__(self, other: "Items") -> "Items":
        return Items(self.total + other.total, self.done + other.done, self.failed + other.failed)


@dataclass(frozen=True)
class Failure:
    """Failed items of one stage that failed for one reason (a code of the parser, gate or call)."""

    stage: str
    reason: str
    count: int
    example: str | None = None


@dataclass(frozen=True)
class RunState:
    """How a run stands. `status` is running, completed, failed, cancelled, or stopped: recorded as
    running, but no job in this process works on it (the process that ran it ended)."""

    id: str
    dataset: str
    model: str
    status: str
    stages: dict[str, Items]
    samples: int
    tries: int  # replies the model gave, each kept or refused, over every item
    error: str | None = None
    error_hint: str | None = None
    created_at: datetime | None = None
    started_by: str | None = None  # the login or OS user who started it (None: before it was recorded)
    updated_at: datetime | None = None
    rate: float | None = None  # items finished per second by the live job
    eta_s: float | None = None  # seconds left at that rate; only while running
    job_id: str | None = None  # the live job working on it
    failures: tuple[Failure, ...] = field(default=())  # most common first; only from run_state()

    @property
    def items(self) -> Items:
        total = Items()
        for items in self.stages.values():
            total = total + items
        return total

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def can_resume(self) -> bool:
        return self.status in RESUMABLE and (self.items.left > 0 or self.items.failed > 0)

    @property
    def fraction(self) -> float:
        """Share of items settled (done or failed), for a progress bar."""
        items = self.items
        return min(1.0, (items.done + items.failed) / items.total) if items.total else 0.0

    @property
    def retry_helps(self) -> bool:
        """Whether resuming can get more done: work never tried, a model call that failed (retried
        once it is fixed), or failures of a stage the model also got right, so fresh seeds may pass."""
        if not self.can_resume:
            return False
        if self.status != "failed" or not self.failures:
            return True
        return any(f.reason == "call" or self.stages[f.stage].done > 0 for f in self.failures)


def live_runs(jobs) -> dict[str, dict]:
    """Run id -> the view of the running generate job working on it, in this process."""
    if jobs is None:
        return {}
    return {
        j["params"]["run_id"]: j
        for j in jobs.list()
        if j["kind"] == "generate" and j["status"] == "running" and "run_id" in j["params"]
    }


def run_states(store, live: Mapping[str, dict] | None = None, run_ids=None, limit=None) -> list[RunState]:
    """Runs newest first (all, `run_ids`, or the latest `limit`), each as it stands now."""
    return [_state(row, (live or {}).get(row["id"])) for row in store.run_ledgers(run_ids, limit)]


def run_state(store, run_id: str, live: Mapping[str, dict] | None = None) -> RunState | None:
    """One run as it stands, with its failures by reason; None when there is no such run."""
    found = run_states(store, live, [run_id])
    if not found:
        return None
    failures = tuple(
        Failure(f["stage"], f["reason"], f["count"], f["example"]) for f in store.failure_counts(run_id)
    )
    return replace(found[0], failures=failures)


def _state(row: dict, job: dict | None) -> RunState:
    totals = stage_totals(row["config"])
    counts = {stage: {"done": 0, "failed": 0} for stage in STAGES}
    tries = 0
    for stage, status, count, attempts in row["items"]:
        counts.setdefault(stage, {"done": 0, "failed": 0})[status] = count
        tries += attempts
    # A stage never has fewer items than the ledger settled, even for a plan recorded without keys.
    stages = {
        s: Items(
            max(totals.get(s, 0), c.get("done", 0) + c.get("failed", 0)), c.get("done", 0), c.get("failed", 0)
        )
        for s, c in counts.items()
    }
    status = row["status"]
    if status == "running" and job is None:
        status = "stopped"
    state = RunState(
        id=row["id"],
        dataset=row["dataset"],
        model=row["model"],
        status=status,
        stages=stages,
        samples=row["samples"],
        tries=tries,
        error=row["error"],
        error_hint=row.get("error_hint"),
        created_at=row["created_at"],
        started_by=row.get("started_by"),
        updated_at=row["updated_at"],
    )
    if status != "running":
        return state
    return replace(state, job_id=job["id"], **_pace(job["progress"], state.items.left))


def _pace(progress: dict, left: int) -> dict:
    """The live job's rate, and the time the items still to do take at that rate."""
    rate = progress.get("rate") or None
    return {"rate": rate, "eta_s": left / rate if rate else None}
