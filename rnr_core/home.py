"""The store at a glance, for the home page: every figure an SQL aggregate, rates with Wilson CIs."""

from datetime import timedelta

from rnr_core.stats import wilson

LATEST_RUNS = 10
# Runs over time are drawn per hour while all samples fit in this span, per day beyond it.
HOURLY_SPAN = timedelta(days=2)


def _rate(passes: int, n: int) -> dict:
    low, high = wilson(passes, n)
    return {"passes": passes, "n": n, "rate": passes / n if n else None, "ci95": [low, high] if n else None}


def _bucket(store) -> str:
    first, last = store.created_span()
    return "hour" if first is not None and last - first <= HOURLY_SPAN else "day"


def dashboard(store, bucket: str | None = None) -> dict:
    """Samples by status; pass rates of rules by category and kind over each rule's deciding verdict;
    reject reasons per generation template; samples over time per run status; the latest runs."""
    counts = store.rule_pass_counts()
    bucket = bucket or _bucket(store)
    return {
        "db_path": store.path,
        "samples_by_status": store.samples_by_status(),
        "pass_rate_by_category": {k: _rate(*c) for k, c in counts["category"].items()},
        "pass_rate_by_kind": {k: _rate(*c) for k, c in counts["kind"].items()},
        "reject_reasons": store.reject_reasons_by_template(),
        "samples_over_time": {"bucket": bucket, "rows": store.samples_over_time(bucket)},
        "latest_runs": store.latest_runs(LATEST_RUNS),
    }
