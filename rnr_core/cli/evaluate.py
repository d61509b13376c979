"""Evaluation commands: ifeval, benchmark, eval."""

import sys

from rnr_core import cli, settings  # cli.os_user through the package, where a test may patch it
from rnr_core.cli import _count, _emit, _open_store, _positive, _progress, _run_async, _timeout_arg, command
from rnr_core.cli.reports import eval_text
from rnr_core.cli.splitargs import split_args
from rnr_core.cli.tables import table
from rnr_core.errors import SettingError


def _ifeval_args(p):
    p.add_argument(
        "--input", required=True, help="IFEval input_data.jsonl (prompt, instruction_id_list, kwargs)"
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--responses", help="JSONL of {prompt, response}, one per input prompt")
    source.add_argument("--model", help="answer the prompts with this model spec first")
    p.add_argument("--out", required=True, help="directory for eval_results_strict/loose.jsonl")
    p.add_argument("--limit", type=_count, help="with --model: only the first N prompts")
    p.add_argument("--max-tokens", type=_count, default=1024, help="with --model: response length limit")
    _timeout_arg(p)


def _accuracy_text(summary: dict) -> str:
    lines = [f"{summary['prompts']} prompts, {summary['instructions']} instructions"]
    for mode in ("strict", "loose"):
        acc = summary[mode]
        lines.append(
            f"{mode:6}  prompt-level {acc['prompt_level']:.4f}  "
            f"instruction-level {acc['instruction_level']:.4f}"
        )
    return "\n".join(lines + [f"wrote {f}" for f in summary["files"]])


@command("ifeval", "score responses on IFEval prompts, strict and loose")(_ifeval_args)
def _ifeval(args, store):
    from rnr_core.ifeval.run import run_ifeval

    def score(store):
        with _progress("answering", shown=bool(args.model)) as update:
            return _run_async(
                run_ifeval(
                    store,
                    args.input,
                    args.out,
                    args.responses,
                    args.model,
                    args.limit,
                    args.max_tokens,
                    update,
                )
            )

    if args.model:  # answers go through the store's call cache, so a rerun pays only for the rest
        with _open_store(args) as store:
            summary = score(store)
    else:
        summary = score(None)
    _emit(args, summary, _accuracy_text)


def _ifeval_input_arg(p) -> None:
    p.add_argument(
        "--ifeval-input",
        metavar="PATH",
        help="IFEval's input_data.jsonl (default $RNR_IFEVAL_INPUT, else the shared IFEval data)",
    )


def _benchmark_args(p):
    p.add_argument("action", choices=["freeze", "list"], help="freeze a new benchmark, or list them")
    p.add_argument("name", nargs="?", help="with freeze: the new benchmark's name (never reused)")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--run", metavar="ID", help="freeze this run's samples (all but the rejected ones)")
    source.add_argument("--dataset", metavar="NAME", help="freeze the samples generated from this dataset")
    source.add_argument("--file", help="freeze a JSONL file of {messages, rules} lines")
    source.add_argument(
        "--export",
        metavar="DIR",
        help="freeze the system prompts an export (a folder 'rnr export' wrote) held out in --split "
        "(default test), exactly as it placed them",
    )
    source.add_argument("--ifeval", action="store_true", help="freeze IFEval's prompts")
    _ifeval_input_arg(p)
    p.add_argument(
        "--limit",
        type=_positive,
        metavar="N",
        help="with --ifeval: a subset of N prompts, stratified by kind",
    )
    p.add_argument(
        "--split",
        choices=("train", "validation", "test"),
        help="with --run/--dataset: only the samples whose system prompt an export puts in this split; "
        "with --export: the held-out split to take (default test)",
    )
    split_args(p, "with --split: ")
    p.add_argument(
        "--seed", type=int, default=0, metavar="S", help="with --split or --limit: the seed (default 0)"
    )


@command("benchmark", "freeze a benchmark from a run, dataset, file, export or IFEval, or list them")(
    _benchmark_args
)
def _benchmark(args, store):
    from rnr_core.evaluate.benchmark import freeze, freeze_ifeval

    if args.action == "list":
        return _benchmark_list(args, store)
    if not args.name:
        raise SettingError(
            "Name the new benchmark: rnr benchmark freeze NAME --run ID (or --dataset, --file, --export)."
        )
    if args.ifeval:
        if args.split:
            raise SettingError(
                "--split picks samples of a run or dataset; IFEval is frozen whole or with --limit."
            )
        frozen = freeze_ifeval(store, args.ifeval_input, args.name, args.limit, args.seed, cli.os_user())
    else:
        if args.limit is not None or args.ifeval_input:
            raise SettingError("--limit and --ifeval-input go with --ifeval.")
        if args.export and (args.ratios is not None or args.test_fraction is not None):
            raise SettingError(
                "--export takes the export's own splits; leave out --ratios and --test-fraction."
            )
        frozen = freeze(
            store,
            args.name,
            run_id=args.run,
            dataset=args.dataset,
            split=args.split,
            file=args.file,
            export=args.export,
            created_by=cli.os_user(),
            test_fraction=args.test_fraction,
            seed=args.seed,
            ratios=args.ratios,
            stratify=args.stratify,
        )
    _emit(args, frozen, _frozen_text)


def _frozen_text(f: dict) -> str:
    text = f"froze {f['name']}: {f['items']} items from {f['source']} (content {f['content_hash'][:12]})"
    if f["duplicates_dropped"]:
        text += (
            f"\n{f['duplicates_dropped']} repeated prompts (same system prompt and turns) were left out: "
            "each prompt is one item, with the rules of its first occurrence"
        )
    return text


def _benchmark_list(args, store) -> None:
    from rnr_core.evaluate.benchmark import benchmarks

    if args.name or args.run or args.dataset or args.file or args.ifeval:
        raise SettingError("'rnr benchmark list' takes no name or source; 'rnr benchmark freeze NAME' does.")
    rows = benchmarks(store)

    def text(rows: list[dict]) -> str:
        if not rows:
            return "No benchmarks yet. Freeze one with 'rnr benchmark freeze NAME --run ID' (or --ifeval)."
        cells = [
            [r["name"], str(r["items"]), r["source"], str(r["created_at"])[:19], r["created_by"] or "-"]
            + [r["content_hash"][:12]]
            for r in rows
        ]
        return table(["name", "items", "source", "created", "by", "content"], cells)

    _emit(args, rows, text)


def _eval_args(p):
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--benchmark", metavar="NAME", help="a frozen benchmark ('rnr benchmark list')")
    which.add_argument(
        "--ifeval", action="store_true", help="IFEval's prompts, frozen on first use; no judge"
    )
    p.add_argument(
        "--model",
        action="append",
        required=True,
        metavar="SPEC",
        help="model spec or fine-tune name to evaluate (repeat to compare)",
    )
    p.add_argument(
        "--judge",
        metavar="SPEC",
        help=f"LLM judge for free-form rules (default {settings.DEFAULT_MODEL}; none with --ifeval)",
    )
    p.add_argument("--checkers-only", action="store_true", help="no LLM judge: verifiable rules only")
    p.add_argument(
        "--limit",
        type=_positive,
        metavar="N",
        help="the first N items of the benchmark; with --ifeval a subset of N prompts stratified by kind",
    )
    p.add_argument("--seed", type=int, metavar="S", help="with --ifeval --limit: which subset (default 0)")
    _ifeval_input_arg(p)
    p.add_argument(
        "--max-tokens", type=_positive, default=512, metavar="N", help="response length limit (default 512)"
    )
    p.add_argument(
        "--temperature", type=float, default=0.0, metavar="T", help="sampling temperature (default 0)"
    )
    _timeout_arg(p)


@command("eval", "run models on a benchmark: pass rates with 95% CIs, paired differences")(_eval_args)
def _eval(args, store):
    from rnr_core.evaluate.run import run_eval
    from rnr_core.models.finetunes import resolve_spec
    from rnr_core.models.registry import get_model

    args.model = [resolve_spec(store, spec) for spec in args.model]  # a fine-tune by its registered name
    if args.checkers_only and args.judge:
        raise SettingError("--checkers-only runs no LLM judge; drop --judge, or --checkers-only.")
    given = [f for f, v in (("--seed", args.seed), ("--ifeval-input", args.ifeval_input)) if v is not None]
    if args.benchmark and given:
        raise SettingError(
            f"{' and '.join(given)}: only for --ifeval; the frozen benchmark {args.benchmark!r} has its "
            "items already. Drop them, or use --ifeval."
        )
    if args.ifeval:
        for spec in [*args.model, *([args.judge] if args.judge else [])]:
            get_model(spec)  # a bad spec is refused before IFEval is frozen, not after
        name, limit = _ifeval_benchmark(args, store), None
        judge = args.judge  # IFEval's rules are all verifiable: a judge would only be calibrated
    else:
        name, limit = args.benchmark, args.limit
        judge = None if args.checkers_only else (args.judge or settings.DEFAULT_MODEL)
    with _progress("evaluating") as update:
        result = _run_async(
            run_eval(
                store,
                name,
                args.model,
                judge=judge,
                max_tokens=args.max_tokens,
                temperature=args.temperature,
                limit=limit,
                started_by=cli.os_user(),
                progress=update,
            )
        )
    _emit(args, result, eval_text)
    # As `rnr generate`: 3 when work is left that a rerun retries (failed answers, unparsed judge replies).
    left = any(r["failed"] or r.get("judge_failures") for r in result["reports"].values())
    return 3 if left else 0


def _ifeval_benchmark(args, store) -> str:
    """The IFEval benchmark for these flags: `ifeval`, or `ifeval-N-sSEED` for a subset; frozen once."""
    from rnr_core.evaluate.benchmark import benchmarks, freeze_ifeval

    seed = args.seed or 0
    name = "ifeval" if args.limit is None else f"ifeval-{args.limit}-s{seed}"
    if any(b["name"] == name for b in benchmarks(store)):
        print(f"Using the frozen benchmark {name}.", file=sys.stderr)
        return name
    frozen = freeze_ifeval(store, args.ifeval_input, name, args.limit, seed, cli.os_user())
    print(f"Froze {name}: {frozen['items']} IFEval prompts.", file=sys.stderr)
    return name
