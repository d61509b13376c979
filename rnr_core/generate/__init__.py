"""The RNR generation pipeline."""

from rnr_core.generate.pipeline import execute_run, start_run
from rnr_core.generate.plan import RunConfig

__all__ = ["RunConfig", "execute_run", "start_run"]
