"""Paths and defaults, read from the environment at call time."""

import math
import os
from pathlib import Path

from rnr_core.errors import SettingError


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


def ifeval_input() -> Path:
    """IFEval's input_data.jsonl: `RNR_IFEVAL_INPUT`, else the shared data beside the repository."""
    text = os.environ.get("RNR_IFEVAL_INPUT", "").strip()
    if text:
        return Path(text).expanduser()
    return Path(__file__).resolve().parents[2] / "shared" / "data" / "ifeval" / "input_data.jsonl"


DEFAULT_MODEL = "local"
DEFAULT_TIMEOUT = 120.0


def timeout() -> float:
    """Seconds one model request may take before it counts as failed: `RNR_TIMEOUT`, else 120."""
    text = os.environ.get("RNR_TIMEOUT", "").strip()
    return seconds(text, "RNR_TIMEOUT") if text else DEFAULT_TIMEOUT


def seconds(text: str, name: str) -> float:
    """`text` as a positive, finite number of seconds; `name` says where it came from."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise SettingError(
            f"{name} is {text!r}: give the seconds one model request may take, "
            f"a number above 0 (default {DEFAULT_TIMEOUT:g})."
        )
    return value
