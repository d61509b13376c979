"""Bradley-Terry with bootstrap CIs: wall time of `bradley_terry` over many votes.

Synthesises `--votes` votes among `--models` models with known Elo-like ratings (evenly spaced over
`--spread` points), each between a random pair in a random seating, won with the Bradley-Terry
probability; `--tie-share` of them are ties or "both bad". Building the votes is not timed. Each timed
run is one `bradley_terry(votes, n_boot=--resamples)` call from the vote dicts, so counting the votes,
the fit and every resample are inside it. Target: 100,000 votes among 10 models with 1,000
resamples in <= 2 s on 2 cores (the median run is the `RESULT` line).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from common import loadavg  # noqa: E402

from rnr_core.ranking import bradley_terry  # noqa: E402

TARGET_S = 2.0


def synthetic_votes(n: int, models: int, spread: float, tie_share: float, seed: int) -> list[dict]:
    """n vote dicts between random pairs, won with the Bradley-Terry probability of the true ratings."""
    rng = np.random.default_rng(seed)
    names = [f"model-{k:02d}" for k in range(models)]
    truth = np.linspace(-spread / 2, spread / 2, models)
    first = rng.integers(0, models, n)
    second = (first + rng.integers(1, models, n)) % models
    p_first = 1 / (1 + 10 ** ((truth[second] - truth[first]) / 400))
    roll, kind = rng.random(n), rng.random(n)
    winners = np.where(roll < tie_share, np.where(kind < 0.5, "tie", "both_bad"), "")
    winners = np.where(winners == "", np.where(rng.random(n) < p_first, "a", "b"), winners)
    return [
        {"model_a": names[i], "model_b": names[j], "winner": str(w)}
        for i, j, w in zip(first.tolist(), second.tolist(), winners.tolist())
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description="Bradley-Terry + bootstrap wall time.")
    parser.add_argument("--votes", type=int, default=100_000)
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--spread", type=float, default=600.0, help="rating points from worst to best")
    parser.add_argument("--tie-share", type=float, default=0.1, help="share of ties and both-bad votes")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    print(f"cpu_count: {os.cpu_count()}")
    print(f"loadavg_start: {loadavg()}")
    votes = synthetic_votes(args.votes, args.models, args.spread, args.tie_share, args.seed)
    print(f"votes: {len(votes)}  models: {args.models}  resamples: {args.resamples}")
    bradley_terry(votes[:1000], n_boot=10)  # untimed warm-up: imports, first numpy calls

    times, rows = [], []
    for i in range(args.repeat):
        start = time.perf_counter()
        rows = bradley_terry(votes, n_boot=args.resamples, seed=args.seed + i)
        times.append(time.perf_counter() - start)
    for k, seconds in enumerate(times):
        print(f"run_{k}_seconds: {seconds:.3f}")
    print(f"seconds_best: {min(times):.3f}")
    median = statistics.median(times)
    print(f"seconds_median: {median:.3f}")

    order = [r["model"] for r in rows]
    print(f"order_recovered: {str(order == sorted(order, reverse=True)).lower()}")
    widest = max(r["ci95"][1] - r["ci95"][0] for r in rows) if args.resamples else float("nan")
    print(f"widest_ci95_points: {widest:.1f}")
    top, bottom = rows[0], rows[-1]
    print(f"top: {top['model']} {top['rating']:.1f}  bottom: {bottom['model']} {bottom['rating']:.1f}")
    print(f"loadavg_end: {loadavg()}")
    print(f"RESULT bt_bootstrap_seconds={median:.3f} target={TARGET_S} ok={str(median <= TARGET_S).lower()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
