"""Helpers shared by the benchmark scripts."""

import os


def loadavg() -> str:
    """The 1/5/15-minute load, printed so runs on a busy machine can be spotted."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"
