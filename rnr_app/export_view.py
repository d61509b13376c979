"""What the Export page shows of a preview or a written export: counts per split and per split x rule
category, the leakage report with both texts of each pair, the dataset card and the files to download.
Instructions and the card come from the store: shown as text, never as markup."""

from pathlib import Path

import streamlit as st

from rnr_app.widgets import esc
from rnr_core.access import export_shown as shown_at
from rnr_core.review import plural

DOWNLOAD_LIMIT = 200 * 1024 * 1024  # bigger files are read from the folder, not through the browser
# The metric a preview's left-out counts are shown as.
LEFT_OUT = {"failing": "Left out: failing", "unjudged": "Left out: not judged"}


def split_counts(counts: dict) -> str:
    """'2 train, 1 validation and 0 test samples'."""
    parts = [f"{n:,} {split}" for split, n in counts.items()]
    return f"{', '.join(parts[:-1])} and {parts[-1]} samples" if len(parts) > 1 else f"{parts[0]} samples"


def preview(found: dict) -> None:
    """A preview: the counts per split and what the verdicts left out, then the categories and leakage."""
    shown = {split.capitalize(): n for split, n in found["counts"].items()}
    shown |= {LEFT_OUT[why]: n for why, n in found["excluded"].items()}
    for col, (label, n) in zip(st.columns(len(shown)), shown.items()):
        col.metric(label, f"{n:,}")
    if found["split_warning"]:
        st.warning(esc(found["split_warning"]))
    categories(found["by_category"])
    leakage(found["leakage"])
    st.caption(esc(f"Counted at {found['at']} with the settings above."))


def categories(by_category: dict) -> None:
    """Samples per rule category (rows) and split (columns); a sample counts once per category it has."""
    names = sorted({c for counts in by_category.values() for c in counts})
    if not names:
        return
    rows = [{"Rule category": c, **{s: counts.get(c, 0) for s, counts in by_category.items()}} for c in names]
    st.caption("Samples per split and rule category (a sample with rules of two categories counts in both):")
    st.dataframe(rows, hide_index=True)


def leakage(report: dict) -> None:
    """The near-duplicate check across splits: what it found, what was done, and the closest pairs."""
    if not report.get("checked"):
        st.caption(esc(f"Near-duplicate check: not run ({report.get('reason', 'turned off')})."))
        return
    found = (
        f"Near-duplicate check ({report['model']}, similarity ≥ {report['threshold']:g}): "
        f"{plural(report['texts'], 'held-out instruction')} of {report['held_out_texts']:,} "
        f"({plural(report['samples'], 'sample')}) close to an instruction of an earlier split."
    )
    done = {
        "move": f" Moved {plural(report.get('moved_groups', 0), 'system-prompt group')} "
        f"({plural(report.get('moved_samples', 0), 'sample')}) to train.",
        "drop": f" Dropped {plural(report.get('dropped_samples', 0), 'held-out sample')}.",
    }.get(report["action"], "")
    unchecked = report.get("unchecked_samples")
    more = (
        f" {plural(unchecked, 'sample')} had no stored embedding, so were not checked." if unchecked else ""
    )
    (st.warning if report["texts"] else st.caption)(esc(found + (done if report["texts"] else "") + more))
    if report["examples"]:
        pairs = [
            {
                "Similarity": p["similarity"],
                "Held out in": p["split"],
                "Instruction": p["text"],
                "Close to, in": p["other_split"],
                "Its instruction": p["other_text"],
            }
            for p in report["examples"]
        ]
        st.dataframe(pairs, hide_index=True)


def written(manifest: dict) -> None:
    """A written export: what went where, the leakage report, the dataset card, and the downloads."""
    out = Path(manifest["out"])
    st.success(esc(f"Wrote {split_counts(manifest['counts'])} to {shown_at(out)}."))
    if manifest["split_warning"]:
        st.warning(esc(manifest["split_warning"]))
    if manifest.get("negatives"):
        st.caption(esc(f"negatives.jsonl holds {plural(manifest['negatives']['count'], 'rejected sample')}."))
    leakage(manifest["leakage"])
    card = out / "README.md"
    if card.is_file():
        with st.expander("Dataset card (README.md)", expanded=True):
            st.code(card.read_text(encoding="utf-8"), language="markdown", wrap_lines=True, height=420)
    downloads(out, manifest["files"])


def downloads(out: Path, names: list[str]) -> None:
    """A download button per written file; one too big for the browser is named where it lies."""
    for name in names:
        path = out / name
        if path.is_file() and path.stat().st_size <= DOWNLOAD_LIMIT:
            # Read on click, not on every rerun of the page: the files may be hundreds of megabytes.
            st.download_button(
                f"Download {name}", path.read_bytes, file_name=name, key=f"dl-{name}", on_click="ignore"
            )
        elif path.is_file():
            st.caption(esc(f"{name} is too big to download here; find it at {shown_at(path)}."))
