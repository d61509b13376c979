"""`rnr experiment loop --config FILE`: the RNR experiment end to end, resumable."""

import sys
from pathlib import Path

from rnr_core import cli  # cli.os_user through the package, where a test may patch it
from rnr_core.cli import NO_STORE, _emit, _open_store, _run_async, command

NO_STORE.add("experiment")  # the config is checked before the store is opened or created


def _experiment_args(p):
    p.add_argument(
        "action", choices=["loop"], help="loop: data, held-out benchmark, training, evaluations, report"
    )
    p.add_argument(
        "--config", required=True, metavar="FILE", help="the experiment's TOML file (see bench/loop.toml)"
    )
    p.add_argument("--out", metavar="DIR", help="output folder (default: [run] out of the config)")
    p.add_argument(
        "--split",
        choices=("heldout", "dev"),
        help="evaluate on the dev split to fix a recipe, or the held-out one (default: [benchmark] split)",
    )


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _summary_text(result: dict) -> str:
    lines = [f"report: {result['files'][0]}"]
    for label, e in result["evals"].items():
        rate = e["pass_rate"]["rate"]
        lines.append(
            f"{label:8} pass rate {'–' if rate is None else f'{100 * rate:.1f}%'} (n={e['pass_rate']['n']})"
        )
    for d in result["differences"]:
        if d["diff"] is not None:
            lines.append(
                f"{d['model_a']} − {d['model_b']}: {100 * d['diff']:+.1f} pts, "
                f"McNemar p = {d['mcnemar_p']:.2g}"
            )
    return "\n".join(lines)


@command("experiment", "the RNR experiment: fine-tune on rules, evaluate on held-out prompts, report")(
    _experiment_args
)
def _experiment(args, store):
    from rnr_core.experiment.config import load
    from rnr_core.experiment.loop import run_loop

    # A folder typed on the command line is taken from where the command runs, not the config's folder.
    overrides = {"run": {"out": str(Path(args.out).expanduser().absolute())}} if args.out else {}
    if args.split:
        overrides["benchmark"] = {"split": args.split}
    cfg = load(args.config, overrides)
    with _open_store(args) as store:
        result = _run_async(run_loop(store, cfg, say=_say, started_by=cli.os_user()))
    _emit(args, result, _summary_text)
