"""Run commands: generate, runs, stats, judge."""

import sys

from rnr_core import cli, settings  # cli.os_user through the package, where a test may patch it
from rnr_core.cli import _count, _emit, _missing, _progress, _run_async, _timeout_arg, command
from rnr_core.cli.tables import calibration_lines
from rnr_core.errors import RnrError, SettingError

# Options that set a RunConfig field: flag, field, type, help. Defaults come from RunConfig itself.
_RUN_OPTIONS = (
    ("--model", "model", str, "model spec; see 'rnr models'"),
    ("-n", "n", int, "instructions to sample"),
    ("--k", "k", int, "instructions per system prompt"),
    ("--rules", "rules", int, "rules per system prompt"),
    ("--max-retries", "max_retries", int, "retries for an invalid reply"),
    (
        "--verifiable-share",
        "verifiable_share",
        float,
        "share of each prompt's rules drawn from the checkable kinds",
    ),
    ("--rejections", "rejections", int, "regenerations of a response that fails a checker"),
    (
        "--revisions",
        "revisions",
        int,
        "rounds that send a response still failing a checker back with the rules it broke",
    ),
    ("--temperature", "temperature", float, "sampling temperature"),
    ("--max-tokens", "max_tokens", int, "response length limit"),
)


def _generate_args(p):
    from dataclasses import fields

    from rnr_core.generate import RunConfig
    from rnr_core.generate.plan import MODES

    defaults = {f.name: f.default for f in fields(RunConfig)}
    p.add_argument("--dataset", help="dataset to sample instructions from")
    for flag, name, kind, text in _RUN_OPTIONS:
        p.add_argument(flag, dest=name, type=kind, help=f"{text} (default {defaults[name]})")
    p.add_argument("--seed", type=int, help="repeat an earlier plan (default: a fresh seed, recorded)")
    p.add_argument("--no-tempting", action="store_true", help="skip turns that push against a rule")
    p.add_argument("--no-out-of-scope", action="store_true", help="skip turns outside the role")
    p.add_argument(
        "--quality-gate",
        choices=("auto", "on", "off"),
        default="auto",
        help="retry system prompts with placeholders, '...', a vague role or repeated rules; 'auto' "
        "(default) is on for every model but the embedded 'local', which is too small to pass it",
    )
    p.add_argument("--no-quality-gate", action="store_true", help="the same as --quality-gate off")
    p.add_argument(
        "--fixers",
        action="store_true",
        default=None,
        help="after revision, mechanically fix rules that still fail where the kind has an exact fix "
        "(lowercase, quotes, end phrase, title, ...); recorded in each sample's provenance",
    )
    p.add_argument(
        "--mode",
        choices=MODES,
        help="generate (default): the model answers; recycle: the dataset's reference answers, fixed "
        "to drawn verifiable rules, with no model call",
    )
    p.add_argument("--resume", metavar="RUN_ID", help="finish an earlier run instead of starting one")
    _timeout_arg(p)


def _run_config(args):
    from rnr_core.generate import RunConfig

    names = [name for _, name, _, _ in _RUN_OPTIONS] + ["fixers", "mode"]
    given = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    return RunConfig(
        dataset=args.dataset,
        seed=args.seed,
        tempting=not args.no_tempting,
        out_of_scope=not args.no_out_of_scope,
        quality_gate="off" if args.no_quality_gate else args.quality_gate,
        **given,
    )


@command("generate", "run the RNR pipeline: system prompts, then responses")(_generate_args)
def _generate(args, store):
    from rnr_core.generate import execute_run, start_run

    if args.resume:
        if args.dataset or args.model:
            raise RnrError(
                "--resume finishes a run with its own dataset and model; drop --dataset and --model."
            )
        run_id = args.resume
    elif not args.dataset:
        raise RnrError("Give --dataset NAME to start a run, or --resume RUN_ID to finish one.")
    else:
        run_id = start_run(store, _run_config(args), started_by=cli.os_user())  # unknown: recorded as such
        seed = store.get_run(run_id)["config"]["seed"]
        print(
            f"Started {run_id} (seed {seed}); if it stops, finish it with 'rnr generate --resume {run_id}'.",
            file=sys.stderr,
        )
    with _progress(run_id) as update:
        run = _run_async(execute_run(store, run_id, update))
    state = _show_run(args, store, run)
    return 0 if state.status == "completed" else 3


def _show_run(args, store, run: dict, failed_items: list[dict] | None = None):
    """Print one run as every view words it (rnr_core.runs, run_words); return its state."""
    from rnr_core import run_words
    from rnr_core.runs import run_state

    state = run_state(store, run["id"])
    data = {
        **{k: run[k] for k in ("id", "dataset", "model", "error", "counts", "created_at")},
        **_state_json(state),
        "error": run_words.error_text(state, "cli") if state.error else None,  # with its CLI fix
        "seed": run["config"]["seed"],
    }
    repairs = _repairs(store, run)
    if repairs:
        data["repairs"] = repairs
    lines = [_run_line(state), *_repair_lines(repairs), *run_words.failure_lines(state, "cli")]
    lines.append(run_words.next_step(state, "cli"))
    text = "\n".join(line for line in lines if line)
    if failed_items is not None:
        data["failed_items"] = failed_items
        text += "".join(_failed_text(i, args.full) for i in failed_items)
    _emit(args, data, lambda _: text)
    return state


def _repairs(store, run: dict) -> dict:
    """How the run's responses came about (revised, fixed, recycled) and what a recycle run skipped."""
    how = store.provenance_counts(run["id"])
    if set(how) <= {"generated"} and not run["config"].get("skipped"):
        return {}
    return {
        "samples": how,
        "by_kind": store.repair_counts(run["id"]),
        "skipped_no_reference": len(run["config"].get("skipped") or []),
    }


def _repair_lines(repairs: dict) -> list[str]:
    if not repairs:
        return []
    lines = ["samples: " + ", ".join(f"{n} {how}" for how, n in repairs["samples"].items())]
    if repairs["skipped_no_reference"]:
        lines.append(
            f"skipped {repairs['skipped_no_reference']} drawn instruction(s) with no reference answer"
        )
    lines += [
        f"  {k['kind']}: failed before revision {k['failed']}, passed after it {k['revised']}, "
        f"fixed {k['fixed']}"
        for k in repairs["by_kind"]
    ]
    return lines


def _state_json(state) -> dict:
    from dataclasses import asdict

    fields = asdict(state)
    del fields["stages"], fields["failures"]
    return {
        **fields,
        "items": {**asdict(state.items), "left": state.items.left},
        "stages": {k: {**asdict(v), "left": v.left} for k, v in state.stages.items()},
        "failures": [asdict(f) for f in state.failures],
        "counts": {"done": state.items.done, "failed": state.items.failed, "samples": state.samples},
    }


def _run_line(state) -> str:
    from rnr_core import run_words

    return f"{run_words.headline(state)} - {run_words.summary(state)}"


def _runs_args(p):
    p.add_argument("run_id", nargs="?", help="show one run with its failed items")
    p.add_argument(
        "--full",
        action="store_true",
        help=f"show failed items' raw output whole (default: {RAW_SHOWN} chars)",
    )


@command("runs", "list generation runs, or show one")(_runs_args)
def _runs(args, store):
    from rnr_core.runs import run_states

    if not args.run_id:
        states = run_states(store)
        _emit(
            args,
            [_state_json(s) for s in states],
            lambda _: "\n".join(map(_run_line, states)) or "No runs yet.",
        )
        return
    run = store.get_run(args.run_id) or _missing("run", args.run_id)
    _show_run(args, store, run, store.run_items(args.run_id, "failed"))


RAW_SHOWN = 300  # characters of a failed item's raw output shown without --full


def _failed_text(item: dict, full: bool) -> str:
    raw = item["raw_output"]
    if raw is None:
        return f"\n  {item['item_key']}: {item['error']}"
    if not full and len(raw) > RAW_SHOWN:
        raw = f"{raw[:RAW_SHOWN]}… ({len(raw)} characters; --full shows all)"
    return f"\n  {item['item_key']}: {item['error']}\n    raw output: " + raw.replace("\n", "\n    ")


def _stats_args(p):
    p.add_argument("--run", help="pass rates of this run only")
    p.add_argument("--dataset", help="pass rates of this dataset's samples only")


def _rate_text(name: str, r: dict) -> str:
    if r["rate"] is None:
        return f"{name}: no judged samples"
    low, high = r["ci95"]
    return f"{name}: {r['rate']:.3f} [{low:.3f}, {high:.3f}] (n={r['n']})"


def _stats_text(o: dict) -> str:
    q, tries = o.pop("quality"), o.pop("failed_tries")
    lines = [f"{k}: {v}" for k, v in o.items()]
    lines += ["failed LLM tries (stage, template, outcome, reason):"] if tries else []
    lines += [f"  {t['stage']}\t{t['template']}\t{t['outcome']}\t{t['reason']}\t{t['tries']}" for t in tries]
    lines += [
        _rate_text("pass rate (all rules)", q["pass_rate"]),
        f"unjudged samples: {q['unjudged_samples']}",
    ]
    lines += [_rate_text(f"  kind {k}", r) for k, r in q["by_kind"].items()]
    lines += [_rate_text(f"  category {k}", r) for k, r in q["by_category"].items()]
    return "\n".join(lines)


@command("stats", "counts, and pass rates with 95% CIs")(_stats_args)
def _stats(args, store):
    from rnr_core.stats import quality

    overview = store.overview()
    overview["quality"] = quality(store.samples_with_verdicts(args.run, args.dataset))
    _emit(args, overview, _stats_text)


def _judge_args(p):
    scope = p.add_mutually_exclusive_group(required=True)
    scope.add_argument("--run", help="judge this run's samples")
    scope.add_argument("--dataset", help="judge the samples generated from this dataset")
    p.add_argument("--judge", help=f"LLM judge for free-form rules (default {settings.DEFAULT_MODEL})")
    p.add_argument("--checkers-only", action="store_true", help="only run the code checkers")
    p.add_argument("--max-retries", type=_count, default=2, help="retries for an unparsable judge reply")
    p.add_argument(
        "--calibrate",
        action="store_true",
        help="also ask the --judge about verifiable rules (the checker still decides them) and show how "
        "often it agrees with the checkers, per rule category",
    )
    _timeout_arg(p)


@command("judge", "give every rule of every sample a verdict")(_judge_args)
def _judge(args, store):
    from rnr_core.judge import judge_samples

    if args.calibrate:
        return _calibrate(args, store)
    judge = None if args.checkers_only else (args.judge or settings.DEFAULT_MODEL)
    with _progress("judging") as update:
        summary = _run_async(judge_samples(store, args.run, args.dataset, judge, args.max_retries, update))
    _emit(args, summary, _summary_text)


def _summary_text(summary: dict) -> str:
    return "\n".join(f"{k}: {v}" for k, v in summary.items())


def _calibrate(args, store) -> None:
    """Judge with the LLM judge on verifiable rules too, then measure it against the checkers."""
    from rnr_core.calibration import calibration
    from rnr_core.judge import judge_samples

    if not args.judge or args.checkers_only:
        raise SettingError(
            "--calibrate measures an LLM judge against the checkers: name it with --judge SPEC "
            "(and drop --checkers-only)."
        )
    with _progress("calibrating") as update:
        summary = _run_async(
            judge_samples(store, args.run, args.dataset, args.judge, args.max_retries, update, calibrate=True)
        )
    summary["calibration"] = calibration(store, args.judge, args.run, args.dataset)
    _emit(args, summary, _calibration_text)


def _calibration_text(summary: dict) -> str:
    shown = {k: v for k, v in summary.items() if k != "calibration"}
    return "\n".join([_summary_text(shown), *calibration_lines(summary["calibration"])])
