"""Orchestration overhead: many chat calls against a fixed-latency stub server.

Starts bench/stub_server.py on a free loopback port, then sends --calls distinct chat calls
through OpenAICompatModel(concurrency=N), twice:

  bare    the backend alone (model.complete)
  cached  the backend wrapped in CachedCaller with a real on-disk DuckDB Store, with the durable
          call log: group commit every 200 ms, as every LLM stage runs (no call is a cache hit)

With a server that answers every call after exactly L ms, the best possible wall time is
calls * L / concurrency. ratio = wall / ideal; the target for the cached path is <= 1.10.
"""

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from common import loadavg  # noqa: E402

from rnr_core.attempts import group_commit  # noqa: E402
from rnr_core.models.base import GenParams  # noqa: E402
from rnr_core.models.cached import CachedCaller  # noqa: E402
from rnr_core.models.openai_compat import OpenAICompatModel  # noqa: E402
from rnr_core.store import Store  # noqa: E402

TARGET = 1.10
STUB = Path(__file__).resolve().parent / "stub_server.py"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, latency_ms: float) -> subprocess.Popen:
    # stderr goes to a temporary file (not a pipe nobody drains) and is shown if start-up fails.
    errors = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [sys.executable, str(STUB), "--port", str(port), "--latency-ms", str(latency_ms)],
        stdout=subprocess.DEVNULL,
        stderr=errors,
    )
    proc.error_file = errors
    return proc


def wait_ready(proc: subprocess.Popen, base_url: str, timeout_s: float = 30.0) -> float:
    """Poll GET /models until it answers 200; return seconds waited."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout_s:
        if proc.poll() is not None:
            proc.error_file.seek(0)
            err = proc.error_file.read().decode(errors="replace")
            raise RuntimeError(f"stub server exited with {proc.returncode}: {err.strip()}")
        try:
            with urllib.request.urlopen(f"{base_url}/models", timeout=1.0) as reply:
                if reply.status == 200:
                    return time.perf_counter() - start
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"stub server at {base_url} did not answer within {timeout_s:.0f} s")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        proc.error_file.close()
        return
    try:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass
    finally:
        proc.error_file.close()


def process_cpu_s(pid: int) -> float | None:
    """utime + stime of a process from /proc (Linux); None where unavailable."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def messages_for(tag: str, i: int) -> list[dict]:
    """Distinct messages per call, so no call can hit the cache."""
    return [
        {"role": "system", "content": "You are a concise assistant used for a benchmark."},
        {"role": "user", "content": f"[{tag} {i}] Summarise item number {i} in one short sentence."},
    ]


async def drive(call, tag: str, n: int, params: GenParams) -> tuple[float, list]:
    """Fire n calls at once (as the pipeline does with gather); the backend's semaphore bounds them."""
    start = time.perf_counter()
    results = await asyncio.gather(*(call(messages_for(tag, i), params) for i in range(n)))
    return time.perf_counter() - start, results


def report(
    prefix: str, wall: float, ideal: float, results: list, cpu_s: float, server_cpu_s: float | None
) -> float:
    ratio = wall / ideal
    lat = sorted(r.latency_ms for r in results)
    print(f"{prefix}_wall_s: {wall:.3f}")
    print(f"{prefix}_ideal_s: {ideal:.3f}")
    print(f"{prefix}_ratio: {ratio:.3f}")
    print(f"{prefix}_calls_per_s: {len(results) / wall:.1f}")
    print(f"{prefix}_client_cpu_s: {cpu_s:.3f}")
    print(f"{prefix}_client_cpu_ms_per_call: {1000 * cpu_s / len(results):.2f}")
    if server_cpu_s is not None:
        print(f"{prefix}_server_cpu_s: {server_cpu_s:.2f}")
    print(f"{prefix}_latency_ms_mean: {statistics.fmean(lat):.1f}")
    print(f"{prefix}_latency_ms_p50: {lat[len(lat) // 2]:.1f}")
    print(f"{prefix}_latency_ms_p99: {lat[min(len(lat) - 1, int(len(lat) * 0.99))]:.1f}")
    print(f"{prefix}_cache_hits: {sum(1 for r in results if getattr(r, 'cached', False))}")
    return ratio


async def run_all(args, base_url: str, db_path: str, server_pid: int) -> dict:
    params = GenParams(temperature=0.0, max_tokens=16, seed=1)
    ideal = args.calls * (args.latency_ms / 1000.0) / args.concurrency
    out = {"ideal": ideal}

    bare_model = OpenAICompatModel("stub-model", base_url=base_url, concurrency=args.concurrency)
    bare_model.spec = f"openai:stub-model@{base_url}"
    cached_model = OpenAICompatModel("stub-model", base_url=base_url, concurrency=args.concurrency)
    cached_model.spec = f"openai:stub-model@{base_url}"
    store = Store(db_path)
    caller = CachedCaller(store, cached_model, run_id="bench-run")
    try:
        # Warm-up, not timed: open connections, import lazily-loaded modules, touch the DB.
        if "bare" in args.modes:
            await drive(bare_model.complete, "warm-bare", args.concurrency, params)
        if "cached" in args.modes:
            await drive(caller, "warm-cached", args.concurrency, params)

        profilers = {}
        runs = {"bare": bare_model.complete, "cached": caller}
        for rep in range(args.repeat):
            for mode, call in runs.items():
                if mode not in args.modes:
                    continue
                profiler = profilers.setdefault(mode, cProfile.Profile()) if args.profile else None
                cpu0, srv0 = time.process_time(), process_cpu_s(server_pid)
                if profiler:
                    profiler.enable()
                async with group_commit(store):
                    wall, results = await drive(call, f"{mode}{rep}", args.calls, params)
                if profiler:
                    profiler.disable()
                srv1 = process_cpu_s(server_pid)
                srv = srv1 - srv0 if srv0 is not None and srv1 is not None else None
                out.setdefault(mode, []).append((wall, results, time.process_time() - cpu0, srv))
        out["logged_calls"] = store._scalar(
            "SELECT count(*) FROM llm_calls WHERE status = 'ok' AND request NOT LIKE '%[warm-%'"
        )
        out["profilers"] = profilers
    finally:
        store.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description="Orchestration overhead against a stub server.")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per mode (best is reported)")
    parser.add_argument("--modes", default="bare,cached", help="comma list of bare,cached")
    parser.add_argument("--profile", action="store_true", help="cProfile the timed runs (per mode)")
    parser.add_argument("--profile-lines", type=int, default=30)
    args = parser.parse_args()
    args.modes = {m.strip() for m in args.modes.split(",") if m.strip()}
    if not args.modes or not args.modes <= {"bare", "cached"}:
        parser.error("--modes takes a comma list of bare and/or cached")

    port = free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    print(f"calls: {args.calls}")
    print(f"concurrency: {args.concurrency}")
    print(f"latency_ms: {args.latency_ms}")
    print(f"cpu_count: {os.cpu_count()}")
    print(f"loadavg_start: {loadavg()}")
    proc = start_server(port, args.latency_ms)
    try:
        print(f"server_start_s: {wait_ready(proc, base_url):.2f}")
        with tempfile.TemporaryDirectory(prefix="rnr-bench-") as tmp:
            out = asyncio.run(run_all(args, base_url, os.path.join(tmp, "bench.duckdb"), proc.pid))
    finally:
        stop_server(proc)

    ideal = out["ideal"]
    ratios = {}
    for mode in ("bare", "cached"):
        if mode in out:
            wall, results, cpu, server_cpu = min(out[mode], key=lambda r: r[0])
            ratios[mode] = report(mode, wall, ideal, results, cpu, server_cpu)
    if "cached" in out:
        print(f"cached_logged_calls: {out['logged_calls']} (expected {args.calls * args.repeat})")
    if "bare" in ratios and "cached" in ratios:
        print(f"cached_over_bare: {ratios['cached'] / ratios['bare']:.3f}")
    for mode, profiler in out.get("profilers", {}).items():
        for key in ("tottime", "cumulative"):
            buf = io.StringIO()
            pstats.Stats(profiler, stream=buf).sort_stats(key).print_stats(args.profile_lines)
            print(f"--- cProfile ({mode} runs, by {key}) ---")
            print(buf.getvalue())

    print(f"loadavg_end: {loadavg()}")
    metric = "cached" if "cached" in ratios else "bare"
    ratio = ratios[metric]
    ok = ratio <= TARGET
    print(f"RESULT orchestration_{metric}_ratio={ratio:.3f} target={TARGET:.2f} ok={str(ok).lower()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
