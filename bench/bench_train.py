"""Fine-tuning speed: `train_model` on the embedded SmolLM2-135M, full and LoRA, N steps at batch B.

Writes a `messages` export of synthetic role-and-rules samples (a system prompt with rules, a question,
an answer of a few sentences: about 150 tokens each), dequantises the embedded model into the model
cache of a fresh RNR_HOME (timed once, as the first `rnr train --base local` pays it), then trains each
mode into its own folder. Per mode it prints the whole call, the training steps alone (from the first
progress report to the last), the first step (it warms up) and the mean of the others.

    .venv/bin/python bench/bench_train.py --steps 10 --batch 2
"""

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from common import loadavg  # noqa: E402

from rnr_core import jsonl  # noqa: E402

TARGET_S = 43.0  # full fine-tuning, 10 steps at batch 2, measured on 2 cores when training was planned
TOPICS = ["tides", "bread", "volcanoes", "chess", "bees", "glaciers", "printing", "comets"]


def rows(n: int) -> list[dict]:
    """Synthetic samples with a role, three rules, a question and a rule-following answer."""
    out = []
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)]
        system = (
            f"You are a museum guide who explains {topic} to visitors.\nRules:\n"
            "1. Answer in exactly three sentences.\n2. Do not use any commas.\n"
            "3. End your answer with the phrase 'Enjoy the tour.'"
        )
        answer = (
            f"{topic.capitalize()} have fascinated people for centuries and the museum holds many examples. "
            f"Each display shows how {topic} change over time and why that matters to us. "
            "Enjoy the tour."
        )
        question = f"Visitor {i} asks: what is the most surprising thing about {topic}?"
        messages = [
            {"role": "system", "content": system},
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer},
        ]
        out.append({"messages": messages})
    return out


async def one_mode(store, data: Path, out: Path, lora: bool, args) -> dict:
    from rnr_core.train import train_model

    stamps: list[tuple[int, float]] = []

    def progress(done: int, total: int, failed: int = 0) -> None:
        stamps.append((done, time.perf_counter()))

    start = time.perf_counter()
    result = await train_model(
        store,
        data,
        out=out,
        name=out.name,
        lora=lora,
        max_steps=args.steps,
        batch_size=args.batch,
        learning_rate=args.learning_rate if not lora else args.learning_rate * 4,
        max_length=args.max_length,
        save_steps=10**6,  # no checkpoint mid-run: the figure is the steps
        progress=progress,
    )
    total = time.perf_counter() - start
    begin = next(t for done, t in stamps if done == 0)
    ends = {done: t for done, t in stamps if done > 0}
    steps = [ends[s] - ends.get(s - 1, begin) for s in sorted(ends)]
    return {
        "total_s": total,
        "steps_s": ends[max(ends)] - begin,
        "first_step_s": steps[0],
        "mean_step_s": sum(steps[1:]) / max(1, len(steps) - 1),
        "loss": (result["first_loss"], result["last_loss"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="Time train_model on the embedded model, full and LoRA.")
    parser.add_argument("--steps", type=int, default=10, help="optimiser steps per mode (default 10)")
    parser.add_argument("--batch", type=int, default=2, help="samples per step (default 2)")
    parser.add_argument("--samples", type=int, default=64, help="rows in the export (default 64)")
    parser.add_argument("--max-length", type=int, default=256, help="tokens per sample (default 256)")
    parser.add_argument("--learning-rate", type=float, default=5e-5, help="full; LoRA uses 4x (default 5e-5)")
    parser.add_argument("--modes", default="full,lora", help="comma-separated: full, lora (default both)")
    parser.add_argument("--home", help="RNR_HOME whose model cache to use (default: a fresh temporary one)")
    args = parser.parse_args()

    from rnr_core.models.convert import cached_checkpoint
    from rnr_core.models.llamacpp import smollm2_path
    from rnr_core.store import Store

    print(f"loadavg_start: {loadavg()}")
    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        tmp = Path(tmp)
        os.environ["RNR_HOME"] = args.home or str(tmp / "home")
        data = tmp / "export"
        data.mkdir()
        jsonl.write_jsonl(data / "train.jsonl", rows(args.samples))
        start = time.perf_counter()
        cached_checkpoint(smollm2_path(), Path(os.environ["RNR_HOME"]) / "models")
        print(f"dequantise_s: {time.perf_counter() - start:.1f} (0 when already cached)")
        figures = {}
        with Store(str(tmp / "rnr.duckdb")) as store:
            for mode in args.modes.split(","):
                got = asyncio.run(one_mode(store, data, tmp / f"ft-{mode}", mode == "lora", args))
                figures[mode] = got
                print(
                    f"{mode}: total_s={got['total_s']:.1f} steps_s={got['steps_s']:.1f} "
                    f"first_step_s={got['first_step_s']:.2f} mean_step_s={got['mean_step_s']:.2f} "
                    f"loss={got['loss'][0]:.3f}->{got['loss'][1]:.3f} "
                    f"({args.steps} steps, batch {args.batch}, max_length {args.max_length})"
                )
    print(f"loadavg_end: {loadavg()}")
    if "full" in figures:
        steps_s = figures["full"]["steps_s"]
        ok = args.steps == 10 and args.batch == 2 and steps_s <= TARGET_S
        print(f"RESULT full_steps_s={steps_s:.1f} target={TARGET_S:g} ok={str(ok).lower()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
