"""Evaluation commands: ifeval, benchmark, eval, compare."""

from rnr_core.cli import _count, _emit, _open_store, _progress, _run_async, _timeout_arg, command


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
