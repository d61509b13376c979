"""The split flags `rnr export` and `rnr benchmark freeze --split` share, so both place prompts alike."""

import argparse


def _ratios(text: str) -> dict:
    """argparse type for --ratios train=0.8,validation=0.1,test=0.1."""
    from rnr_core.export import RatioError, parse_ratios

    try:
        return parse_ratios(text)
    except RatioError as exc:
        raise argparse.ArgumentTypeError(exc.what) from exc


def split_args(p, when: str = "") -> None:
    """--ratios, --test-fraction (shorthand for train and test) and --no-stratify."""
    how = p.add_mutually_exclusive_group()
    how.add_argument(
        "--ratios",
        type=_ratios,
        metavar="SPLIT=F,...",
        help=f"{when}the share of samples per split, adding up to 1: train and one or two of validation "
        "and test (e.g. train=0.8,validation=0.1,test=0.1)",
    )
    how.add_argument(
        "--test-fraction",
        type=float,
        metavar="F",
        help=f"{when}shorthand for --ratios train=1-F,test=F (default: 0.1)",
    )
    p.add_argument(
        "--no-stratify",
        dest="stratify",
        action="store_false",
        help=f"{when}place system prompts by seed alone, not balancing rule categories across splits",
    )
