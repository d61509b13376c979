"""Paths and defaults, read from the environment at call time."""

import os
from pathlib import Path


def rnr_home() -> Path:
    """Directory for the store and caches: `RNR_HOME`, else `~/.rnr`."""
    return Path(os.environ.get("RNR_HOME") or Path.home() / ".rnr").expanduser()


def db_path(override: str | os.PathLike | None = None) -> str:
    """The DuckDB file to use: an explicit path, else `RNR_DB`, else `RNR_HOME/rnr.duckdb`."""
    if override:
        return str(override)
    if os.environ.get("RNR_DB"):
        return os.environ["RNR_DB"]
    return str(rnr_home() / "rnr.duckdb")


def debug() -> bool:
    """Whether errors show their traceback: `RNR_DEBUG` set to anything but empty or 0."""
    return os.environ.get("RNR_DEBUG", "") not in ("", "0")


DEFAULT_MODEL = "local"
