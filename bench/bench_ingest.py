"""Ingest throughput: ingest_file on a large synthetic Alpaca file into a fresh on-disk Store.

Writes --rows unique Alpaca records (instruction / input / output, each about 100-300
characters) to a temporary JSONL file and to a JSON-array file (not timed), then times
ingest_file(store, path, "bench") for each into its own fresh DuckDB file. Target: the JSONL
import of 100,000 rows in <= 3 s.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from common import loadavg  # noqa: E402

from rnr_core.ingest import ingest_file  # noqa: E402
from rnr_core.store import Store  # noqa: E402

TARGET_S = 3.0

WORDS = (
    "apple river network system garden energy python window market signal travel music "
    "history ocean planet engine budget letter summary policy design kitchen recipe poem "
    "student teacher science climate forest mountain city village bridge railway coffee "
    "language grammar memory storage database record format lesson account customer "
    "weather season holiday report project meeting schedule feature release version "
    "health exercise sleep reading writing painting camera picture animal bird winter"
).split()
VERBS = (
    "Explain",
    "Describe",
    "Summarise",
    "List",
    "Compare",
    "Write",
    "Suggest",
    "Translate",
    "Rewrite",
    "Classify",
    "Outline",
    "Evaluate",
)


def _text(rng: random.Random, lo: int, hi: int) -> str:
    target = rng.randint(lo, hi)
    words = []
    size = 0
    while size < target:
        w = rng.choice(WORDS)
        words.append(w)
        size += len(w) + 1
    return " ".join(words)[:target].rstrip()


def synth_rows(n: int, seed: int) -> list[dict]:
    """Unique Alpaca records; the row number in the instruction guarantees uniqueness."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        head = f"{rng.choice(VERBS)} item {i}: "
        instruction = head + _text(rng, 100 - len(head), 300 - len(head)) + "."
        extra = _text(rng, 100, 300) if rng.random() < 0.6 else ""
        output = _text(rng, 100, 300) + "."
        rows.append({"instruction": instruction, "input": extra, "output": output})
    return rows


def time_ingest(path: Path, db_path: Path, profile: bool) -> tuple[float, object, str]:
    store = Store(str(db_path))
    try:
        profiler = cProfile.Profile() if profile else None
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        result = ingest_file(store, path, "bench")
        if profiler:
            profiler.disable()
        elapsed = time.perf_counter() - start
    finally:
        store.close()
    text = ""
    if profiler:
        buf = io.StringIO()
        pstats.Stats(profiler, stream=buf).sort_stats("cumulative").print_stats(25)
        text = buf.getvalue()
    return elapsed, result, text


def main() -> int:
    parser = argparse.ArgumentParser(description="ingest_file throughput on synthetic Alpaca data.")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--formats", default="jsonl,json", help="comma list of jsonl,json")
    parser.add_argument("--profile", action="store_true", help="cProfile each ingest_file call")
    args = parser.parse_args()
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]

    rows = synth_rows(args.rows, args.seed)
    print(f"rows: {len(rows)}")
    print(f"cpu_count: {os.cpu_count()}")
    print(f"loadavg_start: {loadavg()}")
    results = {}
    with tempfile.TemporaryDirectory(prefix="rnr-bench-ingest-") as tmp:
        tmp = Path(tmp)
        for fmt in formats:
            path = tmp / f"alpaca.{fmt}"
            with path.open("w", encoding="utf-8") as fh:
                if fmt == "jsonl":
                    for row in rows:
                        fh.write(json.dumps(row, ensure_ascii=False))
                        fh.write("\n")
                else:
                    json.dump(rows, fh, ensure_ascii=False, indent=2)
            print(f"{fmt}_file_mb: {path.stat().st_size / 1e6:.1f}")
            elapsed, result, prof = time_ingest(path, tmp / f"{fmt}.duckdb", args.profile)
            results[fmt] = elapsed
            print(f"{fmt}_read: {result.read}")
            print(f"{fmt}_added: {result.added}")
            print(f"{fmt}_duplicates: {result.duplicates}")
            print(f"{fmt}_seconds: {elapsed:.3f}")
            print(f"{fmt}_rows_per_s: {result.read / elapsed:.0f}")
            print(f"{fmt}_ok: {str(elapsed <= TARGET_S).lower()}")
            if prof:
                print(f"--- cProfile {fmt} (by cumulative) ---")
                print(prof)

    print(f"loadavg_end: {loadavg()}")
    metric = "jsonl" if "jsonl" in results else next(iter(results))
    seconds = results[metric]
    ok = seconds <= TARGET_S
    print(f"RESULT ingest_{metric}_seconds={seconds:.3f} target={TARGET_S:.1f} ok={str(ok).lower()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
