"""The compare command: pairwise LLM judging of models on a benchmark, and the leaderboard."""

from rnr_core import cli  # cli.os_user through the package, where a test may patch it
from rnr_core.cli import _count, _emit, _positive, _progress, _run_async, _timeout_arg, command
from rnr_core.cli.reports import compare_text


def _compare_args(p):
    p.add_argument(
        "--benchmark", required=True, metavar="NAME", help="a frozen benchmark ('rnr benchmark list')"
    )
    p.add_argument(
        "--model",
        action="append",
        required=True,
        metavar="SPEC",
        help="model spec to compare (repeat: two or more)",
    )
    p.add_argument("--judge", required=True, metavar="SPEC", help="the LLM pairwise judge (a model spec)")
    p.add_argument(
        "--limit", type=_positive, metavar="N", help="only the first N items of the benchmark (default all)"
    )
    reuse = "default: the model's latest completed evaluation's, so its answers are reused, else"
    p.add_argument("--max-tokens", type=_positive, metavar="N", help=f"response length limit ({reuse} 512)")
    p.add_argument("--temperature", type=float, metavar="T", help=f"sampling temperature ({reuse} 0)")
    p.add_argument(
        "--max-retries", type=_count, default=2, metavar="N", help="retries for an unparsable judge reply"
    )
    _timeout_arg(p)


@command("compare", "judge models against each other: win rates and Bradley-Terry leaderboard")(_compare_args)
def _compare(args, store):
    from rnr_core.evaluate.compare import run_compare

    with _progress("comparing") as update:
        board = _run_async(
            run_compare(
                store,
                args.benchmark,
                args.model,
                args.judge,
                max_tokens=args.max_tokens,
                temperature=args.temperature,
                limit=args.limit,
                started_by=cli.os_user(),
                progress=update,
                max_retries=args.max_retries,
            )
        )
    _emit(args, board, compare_text)
