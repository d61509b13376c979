"""The compare command: pairwise LLM judging of models on a benchmark, and the leaderboard."""

from rnr_core import cli  # cli.os_user through the package, where a test may patch it
from rnr_core.cli import _emit, _progress, _run_async, _timeout_arg, command
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
        "--max-tokens", type=int, default=512, metavar="N", help="response length limit (default 512)"
    )
    p.add_argument(
        "--max-retries", type=int, default=2, metavar="N", help="retries for an unparsable judge reply"
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
                started_by=cli.os_user(),
                progress=update,
                max_retries=args.max_retries,
            )
        )
    _emit(args, board, compare_text)
