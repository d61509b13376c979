"""Freeze benchmarks from runs, datasets, files or IFEval, and read them back."""

import json
from pathlib import Path

from rnr_core import settings
from rnr_core.embeddings import instruction, text_hash
from rnr_core.errors import BenchmarkError, EvalInputError, IngestError, NotFound
from rnr_core.evaluate import items as build
from rnr_core.export import SPLITS, split_placement
from rnr_core.export.splits import group_key
from rnr_core.ifeval.files import read_prompts
from rnr_core.ingest.readers import json_records


def freeze(
    store,
    name: str,
    *,
    run_id: str | None = None,
    dataset: str | None = None,
    split: str | None = None,
    file: str | Path | None = None,
    export: str | Path | None = None,
    created_by: str | None = None,
    test_fraction: float | None = None,
    seed: int = 0,
    ratios: dict | None = None,
    stratify: bool = True,
) -> dict:
    """Copy the items of exactly one source into a new benchmark `name`; returns its summary.

    With `split`, only the samples whose system prompt an export of the same run or dataset (with these
    ratios or test fraction, seed and stratification) puts in that split. With `export` (a folder `rnr
    export` wrote), the system prompts that export put in `split` (default test), as it placed them."""
    name = _check_name(store, name)
    given = [s for s in (run_id, dataset, file, export) if s is not None]
    if len(given) != 1:
        raise BenchmarkError(
            "Freeze a benchmark from exactly one source: a run, a dataset, a file or an export."
        )
    if export is not None:
        return _store(store, name, *_export_items(store, Path(export), split or "test"), created_by)
    if file is not None:
        if split is not None:
            raise BenchmarkError("--split picks samples of a run or dataset; a file is frozen whole.")
        return _store(store, name, *_file_items(Path(file)), f"file:{file}", created_by)
    how = {"test_fraction": test_fraction, "seed": seed, "ratios": ratios, "stratify": stratify}
    items, dropped, source = _sample_items(store, run_id, dataset, split, how)
    return _store(store, name, items, dropped, source, created_by)


def freeze_ifeval(
    store,
    path: str | Path | None = None,
    name: str = "ifeval",
    limit: int | None = None,
    seed: int = 0,
    created_by: str | None = None,
) -> dict:
    """IFEval's prompts as a benchmark; `limit` keeps a seeded subset stratified by instruction kind."""
    name = _check_name(store, name)
    path = Path(path) if path else settings.ifeval_input()
    if not path.is_file():
        raise NotFound(
            f"No IFEval input file at {path}. Pass --ifeval-input PATH (IFEval's input_data.jsonl) "
            "or set RNR_IFEVAL_INPUT."
        )
    prompts = read_prompts(path)
    if limit is not None:
        if limit < 1:
            raise BenchmarkError(f"--limit must be at least 1, got {limit}.")
        prompts = build.stratified(prompts, limit, seed)
    source = f"ifeval:{path}" + (f" (limit {limit}, seed {seed})" if limit is not None else "")
    return _store(store, name, *build.unique([build.from_ifeval(p) for p in prompts]), source, created_by)


def benchmarks(store) -> list[dict]:
    """Every frozen benchmark: name, source, items, content_hash, created_at, created_by."""
    return store.list_benchmarks()


def load(store, name: str) -> dict:
    """A benchmark with its items, or NotFound naming it and listing the known ones."""
    row = store.benchmark_row(name)
    if row is None:
        known = ", ".join(b["name"] for b in store.list_benchmarks()) or "none yet"
        raise NotFound(
            f"No benchmark {name!r} (known: {known}). Freeze one with 'rnr benchmark freeze NAME ...'."
        )
    items = store.benchmark_items(row["id"])
    return {"name": name, "id": row["id"], "content_hash": row["content_hash"], "items": items}


def _check_name(store, name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise BenchmarkError("A benchmark needs a name: give a short word such as 'support-v1'.")
    name = name.strip()
    if store.benchmark_row(name) is not None:  # checked again, atomically, when it is stored
        raise BenchmarkError(
            f"A benchmark named {name!r} already exists; frozen benchmarks never change. "
            "Choose another name ('rnr benchmark list' shows those in use)."
        )
    return name


def _sample_items(store, run_id, dataset, split, how: dict) -> tuple[list[dict], int, str]:
    if run_id is not None and store.get_run(run_id) is None:
        raise NotFound(f"No run {run_id!r}. 'rnr runs' lists the runs.")
    if dataset is not None and store.dataset_id(dataset) is None:
        raise NotFound(f"No dataset {dataset!r}. 'rnr datasets' lists them.")
    if split is not None and split not in SPLITS:
        raise BenchmarkError(f"--split must be one of {', '.join(SPLITS)}, got {split!r}.")
    samples = store.benchmark_source_samples(run_id, dataset)
    source = f"run:{run_id}" if run_id is not None else f"dataset:{dataset}"
    if split is not None:  # the very split an export with these settings writes
        split_of = split_placement(store, run_id, dataset, **how)
        if split not in split_of.ratios:
            raise BenchmarkError(
                f"The ratios {_ratios(split_of.ratios)} have no {split} split; add it to --ratios."
            )
        samples = [s for s in samples if split_of(s["system_prompt"]) == split]
        source += f" split:{split} (ratios {_ratios(split_of.ratios)}, seed {how['seed']}"
        source += ", stratified)" if how["stratify"] else ")"
    return *build.unique([build.from_sample(s) for s in samples]), source


def _export_items(store, folder: Path, split: str) -> tuple[list[dict], int, str]:
    """The store's samples whose system prompt the export at `folder` put in `split`, less the
    instructions its near-duplicate check dropped there."""
    manifest = _manifest(folder)
    held = manifest["held_out"]
    if split not in held:
        raise BenchmarkError(
            f"The export in {folder} has no held-out {split} split; it holds out "
            f"{', '.join(held) or 'nothing'} (train is what a model learns from, not a benchmark)."
        )
    groups, dropped = set(held[split]["groups"]), set(held[split]["dropped_texts"])
    samples = [
        s
        for s in store.benchmark_source_samples(manifest.get("run_id"), manifest.get("dataset"))
        if group_key(s["system_prompt"]) in groups and text_hash(instruction(s["messages"])) not in dropped
    ]
    if not samples:
        raise BenchmarkError(
            f"None of the {len(groups)} system prompts the export in {folder} put in {split} are in this "
            "store (edited or removed since, or exported from another store)."
        )
    return *build.unique([build.from_sample(s) for s in samples]), f"export:{folder} split:{split}"


def _manifest(folder: Path) -> dict:
    """The export's manifest, which must record its held-out prompts."""
    path = folder / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotFound(f"No manifest.json in {folder}: give a folder that 'rnr export' wrote.") from None
    except (OSError, ValueError) as exc:
        raise BenchmarkError(f"{path}: cannot read it as an export's manifest ({exc}).") from exc
    held = manifest.get("held_out") if isinstance(manifest, dict) else None
    if not isinstance(held, dict):
        raise BenchmarkError(
            f"{path} does not record the held-out prompts (an export made before they were recorded): "
            "export again, or freeze with --run/--dataset and --split."
        )
    return manifest


def _ratios(ratios: dict) -> str:
    return ",".join(f"{name}={value:g}" for name, value in ratios.items())


def _file_items(path: Path) -> tuple[list[dict], int]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalInputError(f"{path}: cannot read ({exc}).") from exc
    try:
        records = list(json_records(text, str(path)))
    except IngestError as exc:
        raise EvalInputError(str(exc)) from exc
    return build.unique([build.from_line(f"{path}:{no}", obj) for no, obj, _ in records])


def _store(store, name: str, items: list[dict], dropped: int, source: str, created_by: str | None) -> dict:
    """Store the items; the summary counts the repeated prompts left out (`duplicates_dropped`)."""
    if not items:
        raise BenchmarkError(
            f"Nothing to freeze from {source}: it holds no items (rejected samples are left out)."
        )
    digest = build.content_hash(items)
    store.add_benchmark(name, source, digest, items, created_by)
    summary = {"name": name, "items": len(items), "content_hash": digest, "source": source}
    return summary | {"duplicates_dropped": dropped}
