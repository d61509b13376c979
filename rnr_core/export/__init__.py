"""Curated splits of samples, streamed to files in the formats trainers read, with a dataset card."""

from rnr_core.export.core import (
    NothingToExport,
    build_splits,
    export_preview,
    export_samples,
    split_placement,
)
from rnr_core.export.folder import FILES, ExportExists, describe_contents, existing_export
from rnr_core.export.formats import FORMATS, conversation
from rnr_core.export.leakage import ACTIONS as LEAKAGE_ACTIONS
from rnr_core.export.splits import SPLITS, RatioError, parse_ratios, split_warning

__all__ = [
    "FILES",
    "FORMATS",
    "LEAKAGE_ACTIONS",
    "SPLITS",
    "ExportExists",
    "NothingToExport",
    "RatioError",
    "build_splits",
    "conversation",
    "describe_contents",
    "existing_export",
    "export_preview",
    "export_samples",
    "parse_ratios",
    "split_placement",
    "split_warning",
]
