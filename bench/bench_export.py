"""Export of a curated store with and without the leakage check: seconds and peak RSS per run.

The store is the shared synthetic one (app_store.py, built in SQL) with its instructions rewritten to
`--distinct` different texts, as instructions recur across system prompts in RNR data. Each run is a
fresh process, so its memory is its own:
- `plain`: export_samples with the leakage check off (three splits, stratified, messages format);
- `embed`: embedding every distinct instruction once (what the first checked export adds), with its
  rate in sentences per second;
- `checked`: export_samples with the check, its embeddings already stored (every later export);
- `checked_parquet`: the same into Parquet.
Target: a checked export with stored embeddings takes at most 1.5x the plain one.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import app_store  # noqa: E402
from common import loadavg  # noqa: E402

RATIO = 1.5
SETTINGS = {
    "statuses": ["pending", "accepted"],
    "include_failing": True,
    "ratios": {"train": 0.8, "validation": 0.1, "test": 0.1},
}


def rss_mb() -> float:
    """This process's peak resident set so far, in MiB (VmHWM: ru_maxrss survives exec)."""
    try:
        status = Path("/proc/self/status").read_text()
        return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(spec: dict) -> None:
    """One run in this process; prints its figures as JSON."""
    from rnr_core import embeddings
    from rnr_core.export import export_samples
    from rnr_core.store import Store

    with Store(spec["db"]) as store:
        store.con.execute("SET enable_progress_bar = false")
        base, start = rss_mb(), time.perf_counter()
        if spec["run"] == "embed":
            embeddings.model()  # timed apart: importing sentence-transformers and torch takes seconds
            loaded = time.perf_counter()
            selection = {"statuses": SETTINGS["statuses"], "run_id": None, "dataset": None}
            n = embeddings.ensure(store, {**selection, "categories": None}, SETTINGS["include_failing"])
            out = {"texts": n, "load": loaded - start, "embed": time.perf_counter() - loaded}
        else:
            how = {**SETTINGS, "fmt": spec.get("fmt", "messages"), "leakage_threshold": spec["threshold"]}
            manifest = export_samples(store, spec["out"], **how)
            out = {"samples": sum(manifest["counts"].values()), "leakage": manifest["leakage"]}
        out |= {"seconds": time.perf_counter() - start, "base": base, "peak": rss_mb()}
    print(json.dumps(out))


def run(db: str, name: str, **spec) -> dict:
    spec = {"db": db, "run": name, **spec}
    proc = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True
    )
    if proc.returncode:
        raise SystemExit(f"{name} failed:\n{proc.stderr}")
    found = json.loads(proc.stdout.splitlines()[-1])
    print(f"{name}_seconds: {found['seconds']:.1f}")
    print(f"{name}_rss_mb: base {found['base']:.0f}, peak {found['peak']:.0f}")
    return found


def build(db: str, samples: int, k: int, distinct: int) -> None:
    """The synthetic store, its user turns rewritten to `distinct` texts (0: every one different)."""
    from rnr_core.store import Store

    start = time.perf_counter()
    app_store.seed(db, samples, k)
    if distinct:
        with Store(db) as store:
            words = app_store._words(f"id % {distinct}", 12)
            store.con.execute(
                "UPDATE samples SET messages = to_json([{'role': 'user', 'content': "
                f"'Question ' || (id % {distinct}) || ': ' || {words} || '?'}}])"
            )
            store.con.execute("CHECKPOINT")
    print(f"store_built_seconds: {time.perf_counter() - start:.0f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--k", type=int, default=5, help="samples per system prompt")
    parser.add_argument("--distinct", type=int, default=10_000, help="distinct instructions (0: all)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return 0
    print(f"cpu_count: {os.cpu_count()}")
    print(f"loadavg_start: {loadavg()}")
    with tempfile.TemporaryDirectory(prefix="rnr-bench-export-") as tmp:
        db = str(Path(tmp) / "export.duckdb")
        build(db, args.samples, args.k, args.distinct)
        plain = run(db, "plain", out=f"{tmp}/plain", threshold=None)
        print(f"plain_samples: {plain['samples']} ({plain['samples'] / plain['seconds']:.0f}/s)")
        embed = run(db, "embed")
        print(f"embed_model_load_seconds: {embed['load']:.1f}")
        print(f"embed_texts: {embed['texts']} ({embed['texts'] / embed['embed']:.0f} sentences/s)")
        checked = run(db, "checked", out=f"{tmp}/checked", threshold=0.9)
        leak = checked["leakage"]
        print(f"checked_held_out_texts: {leak['held_out_texts']}")
        print(f"checked_near_duplicates: {leak['texts']} held-out texts, {leak['pairs']} pairs")
        run(db, "checked_parquet", out=f"{tmp}/parquet", threshold=0.9, fmt="parquet")
        again = run(db, "embed")  # loads the model, then finds nothing to embed
        print(f"embed_again_texts: {again['texts']} (stored vectors are reused)")
    ratio = checked["seconds"] / plain["seconds"]
    print(f"loadavg_end: {loadavg()}")
    print(f"RESULT checked_over_plain={ratio:.2f} target<={RATIO} ok={str(ratio <= RATIO).lower()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
