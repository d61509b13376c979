"""Exponential backoff with full jitter for transient backend failures."""

import asyncio
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Sleep before retry number `attempt` (1-based): uniform in [0, base * 2**(attempt-1)]."""
        return rng.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


async def retry_async(call, is_transient, policy: RetryPolicy, rng: random.Random | None = None):
    """Await `call()`; retry while `is_transient(exc)`, re-raising the last error."""
    rng = rng or random.Random()
    for attempt in range(1, policy.attempts + 1):
        try:
            return await call()
        except Exception as exc:
            if attempt == policy.attempts or not is_transient(exc):
                raise
            await asyncio.sleep(policy.delay(attempt, rng))
