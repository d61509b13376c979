"""The DuckDB store: the only place that writes SQL."""

from rnr_core.store.adjudication import AdjudicationQueries
from rnr_core.store.audit import AuditQueries
from rnr_core.store.benchmarks import BenchmarkQueries
from rnr_core.store.calibration import CalibrationQueries
from rnr_core.store.calls import CallLog
from rnr_core.store.compare_reads import CompareReads
from rnr_core.store.datasets import DatasetQueries
from rnr_core.store.db import StoreBase
from rnr_core.store.embeddings import EmbeddingQueries
from rnr_core.store.evals import EvalQueries
from rnr_core.store.fine_tunes import FineTuneQueries
from rnr_core.store.preferences import PreferenceQueries
from rnr_core.store.review import ReviewQueries
from rnr_core.store.runs import RunQueries
from rnr_core.store.samples import SAMPLE_STATUSES, SampleQueries
from rnr_core.store.selection import SelectionQueries
from rnr_core.store.stats import StatsQueries
from rnr_core.store.verdicts import VERDICTS, VerdictQueries
from rnr_core.store.votes import VoteQueries


class Store(
    DatasetQueries,
    RunQueries,
    SampleQueries,
    SelectionQueries,
    StatsQueries,
    AuditQueries,
    AdjudicationQueries,
    ReviewQueries,
    VerdictQueries,
    VoteQueries,
    CompareReads,
    CalibrationQueries,
    CallLog,
    PreferenceQueries,
    BenchmarkQueries,
    EvalQueries,
    FineTuneQueries,
    EmbeddingQueries,
    StoreBase,
):
    """One DuckDB file, migrated on open."""


__all__ = ["Store", "SAMPLE_STATUSES", "VERDICTS"]
