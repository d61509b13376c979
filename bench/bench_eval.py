"""An evaluation of N benchmark items through an OpenAI-compatible stub server, against the best time.

Starts bench/stub_server.py on a free loopback port, freezes a benchmark of --items items (each with a
verifiable rule, checked strict and loose), and times `run_eval` on it end to end (answers through the
attempt engine and call cache with group commit into an on-disk Store, checker verdicts, the report),
with judge=None: the stub's replies are not judge verdicts, so the ideal counts the answer calls only.

The best possible wall time is items * latency / concurrency; ratio = wall / ideal, target <= 1.10.
"""

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench_orchestration import free_port, start_server, stop_server, wait_ready  # noqa: E402
from common import loadavg  # noqa: E402

from rnr_core.evaluate.benchmark import freeze  # noqa: E402
from rnr_core.evaluate.run import run_eval  # noqa: E402
from rnr_core.models.openai_compat import OpenAICompatModel  # noqa: E402
from rnr_core.models.registry import register_model  # noqa: E402
from rnr_core.store import Store  # noqa: E402

TARGET = 1.10
RULES = [
    {"id": "r1", "text": "Do not use any commas.", "kind": "punctuation:no_comma", "kwargs": {}},
    {"id": "r2", "text": "Use at least 3 words.", "kind": "length_constraints:number_words",
     "kwargs": {"relation": "at least", "num_words": 3}},
]  # fmt: skip


def write_items(path: Path, tag: str, n: int) -> Path:
    with path.open("w") as out:
        for i in range(n):
            messages = [
                {"role": "system", "content": "You are a concise assistant used for a benchmark."},
                {"role": "user", "content": f"[{tag} {i}] Summarise item number {i} in one sentence."},
            ]
            out.write(json.dumps({"messages": messages, "rules": RULES}) + "\n")
    return path


async def timed(store, name: str, spec: str) -> tuple[float, dict]:
    start = time.perf_counter()
    result = await run_eval(store, name, [spec], judge=None, max_tokens=16)
    return time.perf_counter() - start, result["reports"][spec]


def main() -> int:
    parser = argparse.ArgumentParser(description="Evaluation overhead against a stub server.")
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    args = parser.parse_args()

    port = free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    ideal = args.items * (args.latency_ms / 1000.0) / args.concurrency
    print(f"items: {args.items}")
    print(f"concurrency: {args.concurrency}")
    print(f"latency_ms: {args.latency_ms}")
    print("judge: none (the ideal counts one answer call per item)")
    print(f"cpu_count: {os.cpu_count()}")
    print(f"loadavg_start: {loadavg()}")
    proc = start_server(port, args.latency_ms)
    model = OpenAICompatModel("stub-model", base_url=base_url, concurrency=args.concurrency)
    model.spec = "stub"
    undo = register_model("stub", model)
    try:
        print(f"server_start_s: {wait_ready(proc, base_url):.2f}")
        with (
            tempfile.TemporaryDirectory(prefix="rnr-bench-") as tmp,
            Store(os.path.join(tmp, "b.duckdb")) as store,
        ):
            freeze(store, "warm", file=write_items(Path(tmp, "warm.jsonl"), "warm", args.concurrency))
            freeze(store, "bench", file=write_items(Path(tmp, "bench.jsonl"), "bench", args.items))
            asyncio.run(timed(store, "warm", "stub"))  # not timed: connections, lazy imports, the file
            wall, report = asyncio.run(timed(store, "bench", "stub"))
            calls = store._scalar("SELECT count(*) FROM llm_calls WHERE request LIKE '%[bench %'")
    finally:
        undo()
        stop_server(proc)
    ratio = wall / ideal
    print(f"answered: {report['answered']}  failed: {report['failed']}  calls: {calls}")
    print(f"verifiable_pass_rate: {report['verifiable_pass_rate']['rate']}")
    print(f"wall_s: {wall:.3f}")
    print(f"ideal_s: {ideal:.3f}")
    print(f"ratio: {ratio:.3f}")
    print(f"loadavg_end: {loadavg()}")
    print(f"RESULT eval_ratio={ratio:.3f} target={TARGET:.2f} ok={str(ratio <= TARGET).lower()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
