"""The progress callback long-running core functions accept: (done, total)."""

from collections.abc import Callable

Progress = Callable[[int, int], None]


def silent(done: int, total: int) -> None:
    """The default when no one is watching."""
