"""IFEval scoring time: strict + loose verdicts for the shared 540 GPT-4 responses.

Reads ../shared/data/ifeval (relative to the repository root) once, then times, separately:
the one-time initialisation (language profiles, tokenizers), and scoring (`evaluate`, strict and
loose) with the per-text caches cleared before each repeat. Target: scoring in <= 2 s, process
start (imports) excluded. The accuracies are compared with the known figures.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from common import loadavg  # noqa: E402

from rnr_core.ifeval import accuracies, evaluate, read_prompts, read_responses, write_results  # noqa: E402
from rnr_core.rules import text  # noqa: E402

TARGET_S = 2.0
DATA = ROOT.parent / "shared" / "data" / "ifeval"
EXPECTED = {"strict": (0.7722, 0.8377), "loose": (0.7981, 0.8582)}  # prompt, instruction level


def clear_caches() -> None:
    """Forget every per-text result, as in a fresh process after initialisation."""
    for fn in (text.sentences, text.word_tokens, text.language):
        fn.cache_clear()


def initialise() -> float:
    """Seconds for the one-time set-up: language profiles and tokenizers."""
    start = time.perf_counter()
    text.language("This warms the language profiles up.")
    text.word_tokens("It also builds the tokenizers. Twice.")
    elapsed = time.perf_counter() - start
    clear_caches()
    return elapsed


def score(prompts, responses) -> tuple[float, dict]:
    """Seconds for strict and loose scoring from a fresh state, and the result rows."""
    clear_caches()
    start = time.perf_counter()
    results = evaluate(prompts, responses)
    return time.perf_counter() - start, results


def main() -> int:
    parser = argparse.ArgumentParser(description="IFEval strict + loose scoring time.")
    parser.add_argument(
        "--data", type=Path, default=DATA, help="folder with input_data.jsonl and responses_gpt4.jsonl"
    )
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    inputs, replies = args.data / "input_data.jsonl", args.data / "responses_gpt4.jsonl"
    if not (inputs.exists() and replies.exists()):
        print(
            f"shared IFEval data not found in {args.data} "
            "(need input_data.jsonl and responses_gpt4.jsonl); skipped"
        )
        return 0

    print(f"cpu_count: {os.cpu_count()}")
    print(f"loadavg_start: {loadavg()}")
    start = time.perf_counter()
    prompts = read_prompts(inputs)
    responses = read_responses(replies, prompts)
    print(f"read_seconds: {time.perf_counter() - start:.3f}")
    print(f"prompts: {len(prompts)}  instructions: {sum(len(p.rules) for p in prompts)}")
    print(f"init_seconds: {initialise():.3f}")

    times, results = [], None
    for _ in range(args.repeat):
        elapsed, results = score(prompts, responses)
        times.append(elapsed)
    print(f"score_seconds_first: {times[0]:.3f}")
    print(f"score_seconds_best: {min(times):.3f}")
    print(f"score_seconds_median: {statistics.median(times):.3f}")
    got = {mode: accuracies(rows) for mode, rows in results.items()}
    for mode, acc in got.items():
        print(
            f"{mode}: prompt-level {acc['prompt_level']:.4f}  "
            f"instruction-level {acc['instruction_level']:.4f}"
        )
    same = all(
        (round(got[m]["prompt_level"], 4), round(got[m]["instruction_level"], 4)) == EXPECTED[m]
        for m in EXPECTED
    )
    print(f"accuracies_as_expected: {str(same).lower()}")
    with tempfile.TemporaryDirectory(prefix="rnr-bench-ifeval-") as tmp:
        start = time.perf_counter()
        write_results(tmp, results)
        print(f"write_seconds: {time.perf_counter() - start:.3f}")

    print(f"loadavg_end: {loadavg()}")
    best = min(times)
    print(f"RESULT ifeval_score_seconds={best:.3f} target={TARGET_S:.1f} ok={str(best <= TARGET_S).lower()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
