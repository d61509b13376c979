"""Yield of rule-following responses with the embedded model as its own teacher.

N prompts, each an instruction from alpaca_eval (or the demo Alpaca file) under a system prompt of
a role and 1-2 rules drawn (seeded, compatible) from 8 verifiable kinds. Each prompt goes through
the pipeline's own response path (`response_ask` + `answer`: rejection sampling with `--rejections`
regenerations, then `--revisions` checker-guided revision rounds) and `repair.keep` (the fixers).
One pass gives every figure, as the share of prompts whose response follows every rule:

  (a) rejection sampling only: the best of the sampled tries;
  (b) + revision: the best of all tries, revisions included;
  (c) + fixers: (b)'s response after the mechanical fixes;
  (d) recycled: the instruction's reference answer with the same rules' fixes (no model call);

each also per rule kind (that rule followed, on the response each stage keeps). Afterwards a recycle
run through `start_run`/`execute_run` over the whole file (2 rules from every fixable kind) gives the
recycle mode's own yield. Replies that used the whole `--max-tokens` budget are counted (cut off).

    .venv/bin/python bench/bench_yield.py --n 200

llama.cpp runs as many threads as the process may use cores; on a machine busy with other work,
pin the process to one core (`taskset -c 1 ...`): two threads fighting other processes for two
cores generated ~15x slower here than one thread on one core.
"""

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from common import loadavg  # noqa: E402

from rnr_core.attempts import Engine, Outcome  # noqa: E402
from rnr_core.generate import RunConfig, execute_run, start_run  # noqa: E402
from rnr_core.generate.pipeline import answer, response_ask  # noqa: E402
from rnr_core.generate.recycle import ROLES, recycled, reference_response  # noqa: E402
from rnr_core.generate.repair import keep  # noqa: E402
from rnr_core.ingest import ingest_file  # noqa: E402
from rnr_core.models.base import GenParams, Model  # noqa: E402
from rnr_core.models.registry import get_model  # noqa: E402
from rnr_core.rules import render_system_prompt  # noqa: E402
from rnr_core.rules.sampling import draw_rules  # noqa: E402
from rnr_core.store import Store  # noqa: E402

KINDS = frozenset(
    {
        "change_case:english_lowercase",
        "startend:quotation",
        "startend:end_checker",
        "detectable_format:number_bullet_lists",
        "detectable_format:title",
        "punctuation:no_comma",
        "keywords:existence",
        "detectable_content:postscript",
    }
)
SHARED = ROOT.parent / "shared" / "data" / "alpaca_eval" / "alpaca_eval.jsonl"
DEMO = ROOT / "data" / "demo_alpaca.jsonl"
STAGES = ("a", "b", "c", "d")
TARGET = 0.5  # (c) + fixers should give at least half the prompts a response that follows every rule


class Metered(Model):
    """The model, with the completion tokens of every reply it gave counted."""

    def __init__(self, inner: Model):
        self.inner, self.spec, self.tokens = inner, inner.spec, []

    async def complete(self, messages, params):
        done = await self.inner.complete(messages, params)
        self.tokens.append(done.usage.get("completion_tokens") or 0)
        return done

    def describe(self) -> dict:
        return self.inner.describe()


def prompts(path: Path, n: int, seed: int) -> list[dict]:
    """n records of the file (seeded), each with 1-2 rules and a role."""
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = random.Random(seed)
    picked = rng.sample(records, min(n, len(records)))
    out = []
    for record in picked:
        rules = draw_rules(rng, rng.choice((1, 2)), 1, KINDS)
        role = rng.choice(ROLES.lines())
        instruction = record["instruction"] + (f"\n\n{record['input']}" if record.get("input") else "")
        prompt = {"text": render_system_prompt(role, rules), "rules": rules}
        out.append({"record": record, "instruction": instruction, "prompt": prompt})
    return out


def stage_results(item: dict, outcome: Outcome) -> dict[str, dict[str, bool]]:
    """Verdicts by rule id of the response each stage keeps."""
    rules = item["prompt"]["rules"]
    sampled = Outcome(0, [t for t in outcome.tries if t.revision is None]).best
    messages = [{"role": "user", "content": item["instruction"]}]
    _, _, recycled_verdicts = recycled(rules, messages, item["record"])
    return {
        "a": sampled.verdicts,
        "b": outcome.best.verdicts,
        "c": keep(rules, outcome, True, item["instruction"]).verdicts,
        "d": recycled_verdicts,
    }


async def measure(items: list[dict], args) -> list[dict]:
    store = Store(str(Path(args.workdir) / "yield.duckdb"))
    model = Metered(get_model(args.model))
    engine = Engine(store, model, "bench-yield", args.seed, max_invalid=2, rejections=args.rejections)
    params = GenParams(temperature=args.temperature, max_tokens=args.max_tokens)
    rows, started = [], time.perf_counter()
    for i, item in enumerate(items):
        conversation = [{"role": "user", "content": item["instruction"]}]
        ask = response_ask(f"p{i:04d}", item["prompt"], conversation, params)
        outcome = await answer(engine, ask, item["prompt"]["rules"], args.revisions)
        if outcome.best is None:  # no reply parsed (empty every time): follows nothing
            verdicts = {r["id"]: False for r in item["prompt"]["rules"]}
            results = {s: verdicts for s in STAGES[:3]} | {"d": stage_results_d(item)}
        else:
            results = stage_results(item, outcome)
        rows.append({"rules": item["prompt"]["rules"], "results": results, "tries": len(outcome.tries)})
        store.flush_log()
        if (i + 1) % 10 == 0:
            print(
                f"progress: {i + 1}/{len(items)} prompts, {time.perf_counter() - started:.0f} s", flush=True
            )
    cut = sum(t >= args.max_tokens for t in model.tokens)
    print(f"calls: {len(model.tokens)}")
    print(f"completion_tokens_mean: {sum(model.tokens) / max(len(model.tokens), 1):.0f}")
    print(f"cut_off_at_max_tokens: {cut} ({cut / max(len(model.tokens), 1):.1%})")
    print(f"generation_wall_s: {time.perf_counter() - started:.0f}")
    store.close()
    return rows


def stage_results_d(item: dict) -> dict[str, bool]:
    messages = [{"role": "user", "content": item["instruction"]}]
    return recycled(item["prompt"]["rules"], messages, item["record"])[2]


def report(rows: list[dict]) -> dict[str, float]:
    """Print the yields overall and per kind; return the overall ones."""
    n = len(rows)
    overall = {s: sum(all(r["results"][s].values()) for r in rows) / n for s in STAGES}
    names = {"a": "rejection_only", "b": "plus_revision", "c": "plus_fixers", "d": "recycled"}
    for s in STAGES:
        print(f"yield_{names[s]}: {overall[s]:.1%} ({round(overall[s] * n)}/{n})")
    by_kind: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        for rule in r["rules"]:
            for s in STAGES:
                by_kind[rule["kind"]][s].append(r["results"][s][rule["id"]])
    print("per kind (rule followed: a rejection only / b + revision / c + fixers / d recycled):")
    for kind in sorted(by_kind):
        shares = " / ".join(f"{sum(v) / len(v):.0%}" for v in (by_kind[kind][s] for s in STAGES))
        print(f"  {kind} (n={len(by_kind[kind]['a'])}): {shares}")
    return overall


def recycle_run(path: Path, workdir: str, seed: int) -> None:
    """The recycle mode end to end over the whole file: samples whose every rule passes."""
    store = Store(str(Path(workdir) / "recycle.duckdb"))
    ingest_file(store, path, "ref")
    n = len(store.instruction_ids(store.dataset_id("ref")))
    started = time.perf_counter()
    run_id = start_run(store, RunConfig(dataset="ref", mode="recycle", n=n, k=3, rules=2, seed=seed))
    run = asyncio.run(execute_run(store, run_id))
    passed = sum(
        all(v["verdict"] == "pass" for v in store.verdicts([s["id"]]))
        for s in store.list_samples(limit=n, run_id=run_id)
    )
    print(
        f"recycle_mode_run: {passed}/{run['counts']['samples']} samples follow both rules "
        f"({passed / max(run['counts']['samples'], 1):.1%}), {len(run['config']['skipped'])} skipped, "
        f"{time.perf_counter() - started:.1f} s"
    )
    store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description="Yield of rule-following responses: reject, revise, fix.")
    parser.add_argument("--n", type=int, default=200, help="prompts")
    parser.add_argument("--model", default="local")
    parser.add_argument("--rejections", type=int, default=3, help="regenerations: 3 gives 4 samples")
    parser.add_argument("--revisions", type=int, default=1)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--max-tokens", type=int, default=400)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument(
        "--data", type=Path, help=f"Alpaca JSONL with 'output' (default {SHARED}, else {DEMO})"
    )
    parser.add_argument("--workdir", help="where the fresh stores go (default: a new temporary folder)")
    parser.add_argument("--rows", type=Path, help="also write each prompt's rules and verdicts here (JSON)")
    parser.add_argument("--no-recycle-run", action="store_true", help="skip the recycle run over the file")
    args = parser.parse_args()
    args.workdir = args.workdir or tempfile.mkdtemp(prefix="bench-yield-")
    path = args.data or (SHARED if SHARED.is_file() else DEMO)
    print(f"loadavg_start: {loadavg()}")
    print(
        f"data: {path}  n: {args.n}  model: {args.model}  rejections: {args.rejections}  "
        f"revisions: {args.revisions}  temperature: {args.temperature}  max_tokens: {args.max_tokens}"
    )
    items = prompts(path, args.n, args.seed)
    missing = sum(reference_response([{"role": "user", "content": "x"}], i["record"]) is None for i in items)
    print(f"prompts_without_reference: {missing}")
    rows = asyncio.run(measure(items, args))
    if args.rows:
        args.rows.write_text(json.dumps(rows), encoding="utf-8")
    overall = report(rows)
    if not args.no_recycle_run:
        recycle_run(path, args.workdir, args.seed)
    print(f"loadavg_end: {loadavg()}")
    ok = overall["c"] >= TARGET
    print(f"RESULT yield_plus_fixers={overall['c']:.3f} target={TARGET} ok={str(ok).lower()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
