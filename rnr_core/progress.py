"""Progress of long work: the callback core functions accept, and a tracker any thread can read."""

import threading
import time
from collections.abc import Callable

Progress = Callable[..., None]  # progress(done, total, failed=0); done counts failed items too


def silent(done: int, total: int, failed: int = 0) -> None:
    """The default when no one is watching."""


class Tracker:
    """A progress callback that remembers counts and timing; `snapshot()` is safe from any thread."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock, self._lock = clock, threading.Lock()
        self._started = clock()
        self._first: int | None = None  # items already done when the work (re)started
        self.done = self.total = self.failed = 0

    def __call__(self, done: int, total: int, failed: int = 0) -> None:
        with self._lock:
            if self._first is None:
                self._first = done
            self.done, self.total, self.failed = done, total, failed

    def snapshot(self) -> dict:
        """done, failed, total, items per second since the start, and seconds left at that rate."""
        with self._lock:
            done, total, failed, first = self.done, self.total, self.failed, self._first or 0
        elapsed = max(self._clock() - self._started, 1e-9)
        rate = (done - first) / elapsed
        eta = (total - done) / rate if rate > 0 else None
        return {
            "done": done,
            "failed": failed,
            "total": total,
            "rate": rate,
            "eta_s": eta,
            "elapsed_s": elapsed,
        }
