"""The dataset card (README.md) of an export: Hugging Face YAML metadata, then counts, rules, pass rates,
provenance and the leakage report, all rendered from the manifest (no model writes any of it)."""

import yaml

from rnr_core.export.formats import FORMATS

SIZES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"))
SIZES += ((10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"))
_MARKDOWN = set("\\`*_[]<>|~&$#")
CLIP = 160


def size_category(n: int) -> str:
    return next((label for limit, label in SIZES if n < limit), "n>100M")


def one_line(text: str) -> str:
    """Names are shown on one line; YAML libraries also differ on rarer line breaks (U+0085)."""
    return " ".join(str(text).split())


def metadata(manifest: dict) -> dict:
    """The YAML front matter: the files of each split, so `load_dataset` on the folder finds them."""
    counts = manifest["counts"]
    configs = [
        {
            "config_name": "default",
            "data_files": [{"split": s, "path": manifest["split_files"][s]} for s in counts],
        }
    ]
    if (manifest.get("negatives") or {}).get("count"):
        # An empty file would break `load_dataset` on this config, so none is listed without rows.
        # Its own split name: the file holds rejected samples of every split (each line names its
        # split), so calling it "train" would hand held-out prompts to preference training.
        configs.append(
            {"config_name": "negatives", "data_files": [{"split": "negatives", "path": "negatives.jsonl"}]}
        )
    return {
        "pretty_name": one_line(manifest["title"]),
        "language": [one_line(manifest["language"])] if manifest.get("language") else [],
        "task_categories": ["text-generation"],
        "tags": ["rnr", "system-prompts", "instruction-following", "sft"],
        "size_categories": [size_category(sum(counts.values()))],
        "configs": configs,
        "dataset_info": {"splits": [{"name": s, "num_examples": n} for s, n in counts.items()]},
    }


def front_matter(manifest: dict) -> str:
    """YAML written by a YAML library, so any text in it (a model or dataset name) stays one value."""
    return "---\n" + yaml.safe_dump(metadata(manifest), sort_keys=False, allow_unicode=True) + "---\n"


def cell(value) -> str:
    """Text for a Markdown table cell: one line, Markdown and HTML characters escaped, long text clipped."""
    text = " ".join(str(value).split())
    text = text if len(text) <= CLIP else text[: CLIP - 1] + "…"
    return "".join("\\" + ch if ch in _MARKDOWN else ch for ch in text) or " "


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) if rows else "(none)"


def _share(n: int, total: int) -> str:
    return f"{n / total:.1%}" if total else "-"


def _rate(value) -> str:
    return "-" if value is None else f"{value:.1%}"


def splits_section(m: dict) -> str:
    total = sum(m["counts"].values())
    rows = [
        [s, f"{n:,}", f"{m['prompts'][s]:,}", _share(n, total), f"{m['ratios'][s]:g}", m["split_files"][s]]
        for s, n in m["counts"].items()
    ]
    text = table(["split", "samples", "system prompts", "share", "ratio asked", "file"], rows)
    text += (
        f"\n\nSamples that share a system prompt are in the same split. Groups were "
        f"{'stratified by rule category and ' if m['stratify'] else ''}placed with seed {m['seed']}."
    )
    return text + (f"\n\nNote: {cell(m['split_warning'])}" if m.get("split_warning") else "")


def by_split(counts: dict, label: str) -> str:
    """A table of names down, splits across."""
    splits = list(counts)
    names = sorted({n for c in counts.values() for n in c})
    return table([label, *splits], [[n, *(f"{counts[s].get(n, 0):,}" for s in splits)] for n in names])


def pass_section(m: dict) -> str:
    p = m["pass_rates"]
    text = (
        f"Of {p['candidates']:,} candidate samples (matching the filters), {p['passed']:,} passed every rule "
        f"({_rate(p['rate'])}), {p['failed']:,} failed a rule and {p['unjudged']:,} were not fully judged. "
        + ("All of them were exported." if m["include_failing"] else "Only the passing ones were exported.")
    )
    rows = [
        [c, f"{r['candidates']:,}", f"{r['passed']:,}", _rate(r["rate"])] for c, r in p["by_category"].items()
    ]
    return text + "\n\n" + table(["rule category", "candidates", "passed", "pass rate"], rows)


def counts_table(counts: dict, label: str) -> str:
    return table([label, "samples"], [[k, f"{v:,}"] for k, v in counts.items()])


def provenance_section(m: dict) -> str:
    filters = [
        ["format", f"{m['format']} ({FORMATS[m['format']].about})"],
        ["statuses", ", ".join(m["statuses"])],
        ["dataset", m["dataset"] or "any"],
        ["run", m["run_id"] or "any"],
        ["rule categories", ", ".join(m["categories"] or []) or "any"],
        ["include failing", "yes" if m["include_failing"] else "no"],
        ["ratios", ", ".join(f"{s}={r:g}" for s, r in m["ratios"].items())],
        ["stratified", "yes" if m["stratify"] else "no"],
        ["seed", m["seed"]],
        ["exported", m["created_at"]],
        ["exported by", m["exported_by"] or "unrecorded"],
    ]
    parts = [
        table(["setting", "value"], filters),
        "Response models:\n\n" + counts_table(m["models"], "model"),
        "Response prompt templates:\n\n" + counts_table(m["templates"], "template"),
        "System prompt writers:\n\n" + counts_table(m["prompt_models"], "model"),
        "System prompt templates:\n\n" + counts_table(m["prompt_templates"], "template"),
    ]
    return "\n\n".join(parts)


def repair_section(m: dict) -> str:
    p = m["provenance"]
    text = (
        f"{p['revised']:,} exported samples were revised after a failed check, and {p['fixed']:,} were "
        "repaired by a mechanical fixer."
    )
    parts = [text, "By source:\n\n" + counts_table(p["sources"], "source")]
    if p["fixers"]:
        parts.append("Fixes applied:\n\n" + counts_table(p["fixers"], "fixer"))
    if p["revised_kinds"]:
        parts.append("Rule kinds revised:\n\n" + counts_table(p["revised_kinds"], "rule kind"))
    return "\n\n".join(parts)


def leakage_section(m: dict) -> str:
    r = m["leakage"]
    if not r["checked"]:
        return f"Not checked: {cell(r['reason'])}."
    text = (
        f"Instructions (the user turns) were embedded with {cell(r['model'])}; pairs across splits with "
        f"cosine similarity of at least {r['threshold']:g} count as near duplicates. Found "
        f"{r['pairs']:,} pairs: {r['texts']:,} held-out instructions ({r['samples']:,} samples) have a near "
        f"duplicate in an earlier split. Action: {r['action']}."
    )
    if r.get("moved_groups"):
        text += f" Moved {r['moved_groups']:,} system prompts ({r['moved_samples']:,} samples) into train."
    if r.get("dropped_samples"):
        text += f" Dropped {r['dropped_samples']:,} held-out samples."
    if r["unchecked_samples"]:
        text += f" {r['unchecked_samples']:,} held-out samples had no stored embedding and were not checked."
    rows = [
        [e["split"], e["text"], e["other_split"], e["other_text"], f"{e['similarity']:.3f}"]
        for e in r["examples"]
    ]
    if rows:
        text += "\n\nClosest pairs:\n\n" + table(
            ["split", "instruction", "other split", "near duplicate", "cosine"], rows
        )
    return text


def negatives_section(m: dict) -> str:
    n = m["negatives"]
    return (
        f"`negatives.jsonl` holds {n['count']:,} rejected samples in the same record shape, each with "
        "`split` (its system prompt's split), `reject_reason`, `review_note` and `failed_rules`.\n\n"
        + counts_table(n["reasons"], "reason")
    )


def render(m: dict) -> str:
    """The whole card."""
    sections = [
        ("Splits", splits_section(m)),
        ("Rule categories", by_split(m["by_category"], "category")),
        ("Rule kinds", by_split(m["by_kind"], "kind")),
        ("Pass rates", pass_section(m)),
        ("Provenance", provenance_section(m)),
        ("Repaired samples", repair_section(m)),
        ("Leakage check", leakage_section(m)),
    ]
    if m.get("negatives"):
        sections.append(("Negatives", negatives_section(m)))
    body = "\n\n".join(f"## {title}\n\n{text}" for title, text in sections)
    intro = (
        f"# {cell(m['title'])}\n\nRole-and-rules fine-tuning data exported by RNR Studio: each sample is a "
        "system prompt (a role and rules), the user turns, and a response that follows every rule."
    )
    return f"{front_matter(m)}\n{intro}\n\n{body}\n"
