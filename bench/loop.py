"""The RNR experiment end to end (the core `rnr experiment loop` runs), against the issue's targets.

    .venv/bin/python bench/loop.py [--config bench/loop.toml] [--db FILE] [--split dev]

Targets: tuned minus base >= +25 points of held-out pass rate with McNemar p < 0.05, on at least 200
held-out system prompts, the control gaining less, IFEval (prompt-level, strict) of the tuned model
inside the base's CI or above, bleed < 5%, all in under an hour on 2 cores. A rerun resumes.
"""

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from common import loadavg  # noqa: E402

from rnr_core import settings  # noqa: E402
from rnr_core.experiment.config import load  # noqa: E402
from rnr_core.experiment.loop import run_loop  # noqa: E402
from rnr_core.store import Store  # noqa: E402

GAIN, ITEMS, BLEED, HOUR = 0.25, 200, 0.05, 3600


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _verdicts(r: dict) -> dict[str, bool]:
    """Each target of the issue, met or not."""
    diff = {(d["model_a"], d["model_b"]): d for d in r["differences"]}
    tuned = diff.get(("tuned", "base"), {})
    control = diff.get(("control", "base"), {})
    ifeval = r["ifeval"]
    ok = {
        "gain": (tuned.get("diff") or 0) >= GAIN and (tuned.get("mcnemar_p") or 1) < 0.05,
        "items": r["benchmark"]["items"] >= ITEMS,
        "control_gains_less": bool(control) and (control["diff"] or 0) < (tuned.get("diff") or 0),
        "bleed": (r["bleed"].get("tuned", {}).get("rate") or 0) < BLEED,
        "hour": sum(r["timings"].values()) < HOUR,
    }
    if ifeval:
        base_ci = ifeval["base"]["prompt_level"]["ci95"] or [0, 0]
        ok["ifeval"] = (ifeval["tuned"]["prompt_level"]["rate"] or 0) >= base_ci[0]
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(ROOT / "bench" / "loop.toml"))
    parser.add_argument("--db", help="DuckDB file (default: $RNR_DB, else $RNR_HOME/rnr.duckdb)")
    parser.add_argument("--split", choices=("heldout", "dev"), help="override [benchmark] split")
    args = parser.parse_args()
    cfg = load(args.config, {"benchmark": {"split": args.split}} if args.split else None)
    print(f"loadavg_start: {loadavg()}")
    start = time.perf_counter()
    with Store(settings.db_path(args.db)) as store:
        result = asyncio.run(run_loop(store, cfg, say=_say))
    print(f"wall_s: {time.perf_counter() - start:.0f}")
    print(f"loadavg_end: {loadavg()}")
    for d in result["differences"]:
        print(f"{d['model_a']}_minus_{d['model_b']}: {d['diff']:+.3f} p={d['mcnemar_p']:.2g} n={d['n']}")
    for label, e in result["evals"].items():
        print(f"pass_rate_{label}: {e['pass_rate']['rate']:.3f}")
    print(f"report: {result['files'][0]}")
    ok = _verdicts(result)
    detail = " ".join(f"{k}={'true' if v else 'false'}" for k, v in ok.items())
    gain = next((d["diff"] for d in result["differences"] if d["model_a"] == "tuned"), 0) or 0
    print(f"RESULT gain={gain:+.3f} target=+{GAIN:.2f} {detail} ok={'true' if all(ok.values()) else 'false'}")


if __name__ == "__main__":
    main()
