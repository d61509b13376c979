"""The Export page's settings: which samples, how they split (ratios, stratified, the leakage check),
in which format, and whether rejected samples go out as negatives. Returns export_samples' arguments."""

import streamlit as st

from rnr_core.export import FORMATS, LEAKAGE_ACTIONS
from rnr_core.rules import CATEGORIES
from rnr_core.store import SAMPLE_STATUSES

# What each of the core's leakage actions does, in the picker's words.
ACTION_WORDS = {
    "report": "Report them",
    "move": "Move their groups to train",
    "drop": "Drop the held-out ones",
}


def selection(store) -> dict:
    """Which samples: status, dataset, run, rule categories, and whether failing ones go too."""
    c = st.columns(3)
    statuses = c[0].multiselect("Status", SAMPLE_STATUSES, default=["pending", "accepted"])
    dataset = c[1].selectbox("Dataset", ["any", *store.dataset_names()])
    run_id = c[2].selectbox("Run", ["any", *store.run_statuses()], key="export_run")
    categories = st.multiselect("Rule categories (any of)", CATEGORIES)
    return {
        "statuses": statuses,
        "dataset": None if dataset == "any" else dataset,
        "run_id": None if run_id == "any" else run_id,
        "categories": categories or None,
        "include_failing": st.checkbox("Include samples that failed a rule or are not fully judged"),
    }


def splits() -> dict:
    """The split ratios (validation optional: 0 leaves it out), stratification, seed and the leakage check."""
    c = st.columns(4)
    share = {"step": 0.05, "format": "%.2f"}
    train = c[0].number_input("Train share", 0.0, 1.0, 0.9, **share, key="export_train")
    validation = c[1].number_input("Validation share (0: none)", 0.0, 1.0, 0.0, **share, key="export_val")
    test = c[2].number_input("Test share", 0.0, 1.0, 0.1, **share, key="export_test")
    seed = c[3].number_input("Split seed", 0, 2**31 - 1, 0)
    ratios = {"train": train, **({"validation": validation} if validation else {}), "test": test}
    c = st.columns(4)
    stratify = c[0].checkbox(
        "Stratify by rule category", True, help="Where the counts allow.", key="export_stratify"
    )
    check = c[1].checkbox(
        "Near-duplicate check",
        True,
        help="Embeds the instructions (all-MiniLM-L6-v2, offline, stored once per text) and finds "
        "instructions of a held-out split this similar to one of an earlier split.",
        key="export_leak_check",
    )
    threshold = c[2].slider(
        "Similarity threshold", 0.5, 1.0, 0.9, 0.01, disabled=not check, key="export_leak_threshold"
    )
    action = c[3].selectbox(
        "Near-duplicates found",
        LEAKAGE_ACTIONS,
        format_func=lambda a: ACTION_WORDS.get(a, a),
        disabled=not check,
        key="export_leak_action",
    )
    return {
        "ratios": ratios,
        "seed": seed,
        "stratify": stratify,
        "leakage_threshold": threshold if check else None,
        "leakage_action": action if check else "report",  # the disabled picker keeps its last value
    }


def output() -> dict:
    """The file format, and whether rejected samples go out as negatives (with their reasons)."""
    c = st.columns(2)
    fmt = c[0].selectbox(
        "Format", list(FORMATS), format_func=lambda f: f"{f}: {FORMATS[f].about}", key="export_format"
    )
    negatives = c[1].checkbox(
        "Export rejected samples as negatives",
        help="negatives.jsonl, with why each was rejected.",
        key="export_negatives",
    )
    return {"fmt": fmt, "negatives": negatives}
