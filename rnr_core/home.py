"""The store at a glance, for the home page: every figure an SQL aggregate, rates with Wilson CIs."""

from datetime import timedelta

from rnr_core.review import REJECT_REASONS
from rnr_core.stats import wilson

LATEST_RUNS = 10
# Time buckets of the samples-over-time chart, finest first, with how long each is.
BUCKETS = {
    "second": timedelta(seconds=1),
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
}
# The coarsest bucket that still cuts the store's time span into this many is drawn: a store made
# within one hour is drawn per minute, not as one bar.
MIN_BARS = 6


def bucket_for(span: timedelta | None) -> str:
    """The coarsest time bucket that cuts `span` into at least MIN_BARS bars (the finest for no span)."""
    if span is None:
        return "day"
    fitting = [name for name, size in BUCKETS.items() if span >= size * MIN_BARS]
    return fitting[-1] if fitting else next(iter(BUCKETS))


def percent(rate: float | None) -> str:
    """A share as a percentage for labels: whole percents, one decimal near 0 and 100, '–' for none."""
    if rate is None:
        return "–"
    if 0 < rate < 0.01 or 0.99 < rate < 1:
        return f"{rate:.1%}"
    return f"{rate:.0%}"


def reason_label(reason: str | None) -> str:
    """The label a reject reason has everywhere in the app ('wrong_role' -> 'Wrong role')."""
    if reason is None:
        return "Unspecified"
    return REJECT_REASONS.get(reason, reason)


def _rate(passes: int, n: int) -> dict:
    low, high = wilson(passes, n)
    return {"passes": passes, "n": n, "rate": passes / n if n else None, "ci95": [low, high] if n else None}


def _bucket(store) -> str:
    first, last = store.created_span()
    return bucket_for(None if first is None else last - first)


def dashboard(store, bucket: str | None = None) -> dict:
    """Samples by status; pass rates of rules by category and kind over each rule's deciding verdict;
    reject reasons (with their labels) per generation template; samples over time per run status, in
    buckets fitted to the store's time span; the latest runs."""
    counts = store.rule_pass_counts()
    bucket = bucket or _bucket(store)
    return {
        "db_path": store.path,
        "samples_by_status": store.samples_by_status(),
        "pass_rate_by_category": {k: _rate(*c) for k, c in counts["category"].items()},
        "pass_rate_by_kind": {k: _rate(*c) for k, c in counts["kind"].items()},
        "reject_reasons": [
            dict(r, label=reason_label(r["reason"])) for r in store.reject_reasons_by_template()
        ],
        "samples_over_time": {"bucket": bucket, "rows": store.samples_over_time(bucket)},
        "latest_runs": store.latest_runs(LATEST_RUNS),
    }
