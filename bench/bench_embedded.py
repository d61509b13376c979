"""Embedded-model overhead: LlamaCppModel against raw llama_cpp.Llama on the bundled SmolLM2.

Both sides load the same GGUF with the same settings (n_ctx, n_threads = usable cores,
verbose=False) and answer the same prompts with the same seed, temperature and max_tokens.
Calls alternate raw, ours, raw, ours... after one untimed warm-up each. Tokens are the
completion_tokens from each reply's usage. ratio = ours tokens/s / raw tokens/s; target >= 0.95.

After the paired measurement an "app path" check runs our backend the way the pipeline does:
`await model.complete(...)` for all prompts at once under asyncio.gather (each call goes through
asyncio.to_thread). It is reported against the raw tokens/s from the pairs. It runs last because
it can leave the process slower (see README), and is followed by one more raw pass to show that.
"""

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from common import loadavg  # noqa: E402

from rnr_core.models.base import GenParams  # noqa: E402
from rnr_core.models.llamacpp import LlamaCppModel, smollm2_path  # noqa: E402

TARGET = 0.95

PROMPTS = [
    "Explain in a few sentences why the sky looks blue during the day.",
    "Write a short poem about a lighthouse keeper who befriends a seagull.",
    "List five practical tips for keeping a small vegetable garden healthy.",
    "What is the difference between a list and a tuple in Python?",
    "Describe the water cycle to a ten-year-old.",
    "Give me a simple recipe for tomato soup with ingredients and steps.",
    "Summarise the main causes of the French Revolution.",
    "How do I politely decline a meeting invitation at work? Draft a short email.",
]
SYSTEM = "You are a helpful assistant."
THREADS = len(os.sched_getaffinity(0))  # as LlamaCppModel uses


def conversation(prompt: str) -> list[dict]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}]


def main() -> int:
    parser = argparse.ArgumentParser(description="LlamaCppModel vs raw llama_cpp tokens/s.")
    parser.add_argument(
        "--prompts", type=int, default=len(PROMPTS), help=f"how many of the {len(PROMPTS)} prompts"
    )
    parser.add_argument("--rounds", type=int, default=2, help="passes over the prompts")
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--seed", type=int, default=1234, help="base seed; prompt i uses seed+i")
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument(
        "--mode",
        choices=("sync", "async"),
        default="async",
        help="ours in the pairs: `await model.complete` on one event loop "
        "(default, the pipeline path) or complete_sync",
    )
    parser.add_argument(
        "--order",
        choices=("alternate", "abba"),
        default="alternate",
        help="alternate: raw, ours, raw, ours...; abba: raw, ours, ours, raw, ... "
        "(cancels a second-position advantage)",
    )
    parser.add_argument(
        "--no-app-path", action="store_true", help="skip the asyncio.gather app-path check after the pairs"
    )
    parser.add_argument("--model-path", default=None, help="GGUF file (default: bundled SmolLM2)")
    args = parser.parse_args()

    from llama_cpp import Llama

    path = args.model_path or str(smollm2_path())
    prompts = PROMPTS[: max(1, min(args.prompts, len(PROMPTS)))]
    params = [
        GenParams(temperature=args.temperature, max_tokens=args.max_tokens, seed=args.seed + i)
        for i in range(len(prompts))
    ]
    print(f"model: {Path(path).name}")
    print(f"n_threads: {THREADS}")
    print(f"loadavg_start: {loadavg()}")
    print(f"n_ctx: {args.n_ctx}")
    print(f"max_tokens: {args.max_tokens}")
    print(f"temperature: {args.temperature}")
    print(f"prompts: {len(prompts)}")
    print(f"rounds: {args.rounds}")
    print(f"mode: {args.mode}")
    print(f"order: {args.order}")

    # Two instances with identical settings: llama.cpp reuses the KV cache for a prompt prefix
    # shared with the previous call on the same instance, which would favour whichever side
    # runs second on one shared instance.
    t0 = time.perf_counter()
    raw = Llama(model_path=path, n_ctx=args.n_ctx, n_threads=THREADS, verbose=False)
    print(f"raw_load_s: {time.perf_counter() - t0:.2f}")
    ours = LlamaCppModel(path, n_ctx=args.n_ctx)
    t0 = time.perf_counter()
    _ = ours.llama  # load through the project's cached loader, outside the timings
    print(f"ours_load_s: {time.perf_counter() - t0:.2f}")

    loop = asyncio.new_event_loop()

    def raw_once(messages, p: GenParams) -> tuple[float, int, str]:
        start = time.perf_counter()
        reply = raw.create_chat_completion(
            messages=messages, temperature=p.temperature, max_tokens=p.max_tokens, seed=p.seed
        )
        elapsed = time.perf_counter() - start
        return elapsed, reply["usage"]["completion_tokens"], reply["choices"][0]["message"]["content"] or ""

    def call_raw(messages, p: GenParams) -> tuple[float, int, str]:
        # In async mode ours runs on its worker thread; llama.cpp's OpenMP pool is per calling
        # thread, so raw runs on that same thread too, or two spinning pools would share the cores.
        if args.mode == "async":
            return ours._worker.submit(raw_once, messages, p).result()
        return raw_once(messages, p)

    def call_ours(messages, p: GenParams) -> tuple[float, int, str]:
        start = time.perf_counter()
        if args.mode == "async":
            result = loop.run_until_complete(ours.complete(messages, p))
        else:
            result = ours.complete_sync(messages, p)
        elapsed = time.perf_counter() - start
        return elapsed, result.usage["completion_tokens"], result.text

    async def app_path() -> int:
        replies = await asyncio.gather(
            *(ours.complete(conversation(pr), p) for pr, p in zip(prompts, params))
        )
        return sum(r.usage["completion_tokens"] for r in replies)

    try:
        # One untimed warm-up per side.
        call_raw(conversation(prompts[0]), params[0])
        call_ours(conversation(prompts[0]), params[0])

        totals = {"raw": [0.0, 0], "ours": [0.0, 0]}
        same_text = 0
        calls = 0
        pair_ratios = []
        for _ in range(args.rounds):
            for prompt, p in zip(prompts, params):
                messages = conversation(prompt)
                if args.order == "abba" and calls % 2:
                    o_s, o_tok, o_text = call_ours(messages, p)
                    r_s, r_tok, r_text = call_raw(messages, p)
                else:
                    r_s, r_tok, r_text = call_raw(messages, p)
                    o_s, o_tok, o_text = call_ours(messages, p)
                totals["raw"][0] += r_s
                totals["raw"][1] += r_tok
                totals["ours"][0] += o_s
                totals["ours"][1] += o_tok
                same_text += r_text == o_text
                if r_tok and o_tok:
                    pair_ratios.append((o_tok / o_s) / (r_tok / r_s))
                calls += 1

        raw_tps = totals["raw"][1] / totals["raw"][0]
        ours_tps = totals["ours"][1] / totals["ours"][0]
        ratio = ours_tps / raw_tps
        print(f"raw_tokens: {totals['raw'][1]}")
        print(f"raw_seconds: {totals['raw'][0]:.3f}")
        print(f"raw_tokens_per_s: {raw_tps:.2f}")
        print(f"ours_tokens: {totals['ours'][1]}")
        print(f"ours_seconds: {totals['ours'][0]:.3f}")
        print(f"ours_tokens_per_s: {ours_tps:.2f}")
        print(f"identical_outputs: {same_text}/{calls}")
        pair_ratios.sort()
        print(f"pair_ratio_median: {pair_ratios[len(pair_ratios) // 2]:.3f}")
        print(f"pair_ratio_min: {pair_ratios[0]:.3f}")
        print(f"pair_ratio_max: {pair_ratios[-1]:.3f}")

        if not args.no_app_path:
            start = time.perf_counter()
            tokens = loop.run_until_complete(app_path())
            app_tps = tokens / (time.perf_counter() - start)
            print(f"app_path_calls: {len(prompts)} (asyncio.gather of model.complete)")
            print(f"app_path_tokens_per_s: {app_tps:.2f}")
            print(f"app_path_ratio: {app_tps / raw_tps:.3f}")
            print(f"app_path_ok: {str(app_tps / raw_tps >= TARGET).lower()}")
            after_s, after_tok = 0.0, 0
            for prompt, p in zip(prompts, params):
                s, tok, _ = call_raw(conversation(prompt), p)
                after_s += s
                after_tok += tok
            print(f"raw_after_app_path_tokens_per_s: {after_tok / after_s:.2f}")
    finally:
        loop.close()

    print(f"loadavg_end: {loadavg()}")
    print(f"ratio: {ratio:.3f}")
    ok = ratio >= TARGET
    print(f"RESULT embedded_tps_ratio={ratio:.3f} target={TARGET:.2f} ok={str(ok).lower()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
