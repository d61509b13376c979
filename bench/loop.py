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
from rnr_core.experiment.report import targets  # noqa: E402
from rnr_core.store import Store  # noqa: E402

GAIN = 0.25


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


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
    ok = targets(result)
    for name, met in ok.items():
        print(f"target {name}: {'n/a' if met is None else met}")
    detail = " ".join(f"{k.split()[0]}={met}" for k, met in ok.items())
    gain = next((d["diff"] for d in result["differences"] if d["model_a"] == "tuned"), 0) or 0
    print(f"RESULT gain={gain:+.3f} target=+{GAIN:.2f} {detail} ok={'true' if all(ok.values()) else 'false'}")


if __name__ == "__main__":
    main()
