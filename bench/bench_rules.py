"""Rule-check throughput: checks per second across all 25 IFEval kinds on realistic responses.

Synthesises varied markdown-ish English responses of 100-400 words (paragraphs, bullets,
highlights, titles, sections, postscripts; some all lower case, some upper case, a few lines or
whole answers in another language, a few JSON answers). Every timed check is a distinct
(kind, response) pair. Figures:

- cold: every check has a response of its own, seen by nothing before it, so no per-text cache
  (sentences, word tokens, language) can hit. Target: >= 20,000 checks/s on 2 cores.
- per_response: every response is checked by all 25 kinds, as when a reply is judged against a
  whole rule set; the per-text caches in rnr_core/rules/text.py are shared between kinds.
- ifeval: the same on the shared IFEval GPT-4 responses, when the file is there.

Per-kind microseconds per check show which kinds are slow.
"""

import argparse
import json
import multiprocessing
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from common import loadavg  # noqa: E402

from rnr_core.rules import KINDS, build, text  # noqa: E402

TARGET = 20_000
IFEVAL_RESPONSES = ROOT.parent / "shared" / "data" / "ifeval" / "responses_gpt4.jsonl"

NOUNS = (
    "system",
    "garden",
    "network",
    "budget",
    "recipe",
    "student",
    "teacher",
    "climate",
    "forest",
    "mountain",
    "village",
    "bridge",
    "railway",
    "language",
    "grammar",
    "memory",
    "database",
    "record",
    "lesson",
    "customer",
    "weather",
    "season",
    "holiday",
    "report",
    "project",
    "meeting",
    "schedule",
    "feature",
    "release",
    "version",
    "exercise",
    "camera",
    "picture",
    "animal",
    "winter",
    "summer",
    "market",
    "signal",
    "engine",
    "letter",
    "policy",
    "design",
    "kitchen",
    "poem",
    "city",
    "ocean",
    "planet",
    "history",
    "music",
    "coffee",
    "example",
    "summary",
    "reason",
    "detail",
    "balance",
    "idea",
    "value",
    "quality",
    "result",
    "team",
    "plan",
    "problem",
    "solution",
    "process",
    "method",
    "tool",
    "student",
    "family",
)
VERBS = (
    "improves",
    "supports",
    "changes",
    "explains",
    "reduces",
    "creates",
    "needs",
    "shows",
    "follows",
    "protects",
    "builds",
    "describes",
    "affects",
    "connects",
    "requires",
    "helps",
)
ADJECTIVES = (
    "simple",
    "important",
    "clear",
    "practical",
    "modern",
    "quiet",
    "strong",
    "useful",
    "careful",
    "large",
    "small",
    "new",
    "old",
    "future",
    "local",
    "global",
    "early",
)
ADVERBS = ("quickly", "often", "carefully", "rarely", "usually", "clearly", "really", "just")
OPENERS = (
    "First",
    "However",
    "Overall",
    "Today",
    "Finally",
    "In addition",
    "For example",
    "In short",
    "This",
    "The",
    "Moreover",
    "Dr. Smith notes that",
    "As a rule",
)
FOREIGN = (
    "Le petit chat dort tranquillement sur le canapé pendant que la pluie tombe.",
    "El niño comió una manzana mientras esperaba el autobús en la esquina.",
    "Die Straßenbahn fährt jeden Morgen pünktlich um sieben Uhr ab.",
    "Domani andremo al mare con gli amici e mangeremo una pizza.",
    "O governo anunciou novas medidas para melhorar a educação pública.",
)
ENDINGS = (
    "Is there anything else I can help with?",
    "Let me know if you have additional questions.",
    "Hope this helps.",
)


def _sentence(rng: random.Random) -> str:
    """One English sentence of 6-20 words, sometimes with commas, numbers or highlights."""
    words = [rng.choice(OPENERS)]
    while len(" ".join(words).split()) < rng.randint(6, 20):
        piece = rng.choice(
            (
                rng.choice(NOUNS),
                rng.choice(VERBS),
                rng.choice(ADJECTIVES),
                rng.choice(ADVERBS),
                "the",
                "a",
                "and",
                "of",
                "to",
                "with",
            )
        )
        if rng.random() < 0.06:
            piece = f"*{piece}*" if rng.random() < 0.5 else f"**{piece} {rng.choice(NOUNS)}**"
        elif rng.random() < 0.04:
            piece = piece.upper()
        elif rng.random() < 0.03:
            piece = str(rng.randint(2, 2000))
        words.append(piece + ("," if rng.random() < 0.08 else ""))
    return " ".join(words).rstrip(",") + rng.choice(".....!?")


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(2, 5)))


def _bullets(rng: random.Random) -> str:
    mark = rng.choice("*-")
    return "\n".join(f"{mark} {_sentence(rng)}" for _ in range(rng.randint(2, 6)))


def _body(rng: random.Random, words: int) -> str:
    """Blocks (paragraphs, lists, sections, foreign lines) until about `words` words."""
    blocks: list[str] = []
    sections = rng.random() < 0.1
    while sum(len(b.split()) for b in blocks) < words:
        if sections and rng.random() < 0.5:
            blocks.append(f"{rng.choice(('SECTION', 'Section', 'Part'))} {len(blocks) + 1}")
        roll = rng.random()
        if roll < 0.2:
            blocks.append(_bullets(rng))
        elif roll < 0.25:
            blocks.append(rng.choice(FOREIGN))
        elif roll < 0.3:
            blocks.append(f"Dear [name], please send the {rng.choice(NOUNS)} to [address].")
        else:
            blocks.append(_paragraph(rng))
    return ("\n\n***\n\n" if rng.random() < 0.15 else "\n\n").join(blocks)


def response(rng: random.Random) -> str:
    """A varied markdown-ish response of roughly 100-400 words."""
    words = rng.randint(100, 400)
    roll = rng.random()
    if roll < 0.03:  # a JSON answer
        answer = {"summary": _paragraph(rng), "points": [_sentence(rng) for _ in range(5)]}
        return json.dumps(answer, indent=2)
    if roll < 0.06:  # a whole answer in another language
        return " ".join(rng.choice(FOREIGN) for _ in range(words // 11))
    value = _body(rng, words)
    if rng.random() < 0.2:
        value = f"<<{rng.choice(ADJECTIVES).title()} {rng.choice(NOUNS).title()}>>\n\n{value}"
    if rng.random() < 0.15:
        value += f"\n\nP.S. {_sentence(rng)}"
    if rng.random() < 0.1:
        value += f"\n\n{rng.choice(ENDINGS)}"
    case = rng.random()
    if case < 0.1:
        value = value.lower()
    elif case < 0.2:
        value = value.upper()
    if rng.random() < 0.05:
        value = f'"{value}"'
    return value


def responses(n: int, seed: int) -> list[str]:
    """n distinct responses."""
    rng = random.Random(seed)
    found: dict[str, None] = {}
    while len(found) < n:
        found[response(rng)] = None
    return list(found)


def rule(kind: str, rng: random.Random, reply: str):
    """A rule of `kind` with kwargs drawn like rule-aware generation draws them."""
    kwargs = KINDS[kind].sample(rng)
    if kind == "combination:repeat_prompt":  # half the time the reply does repeat it
        prompt = reply[:60] if rng.random() < 0.5 else "Write a short essay about rivers."
        kwargs = {"prompt_to_repeat": prompt}
    return build(kind, kwargs)


def clear_caches() -> None:
    """Forget every per-text result."""
    for fn in (text.sentences, text.word_tokens, text.language):
        fn.cache_clear()


def run_checks(checks: list) -> tuple[float, dict[str, float], int]:
    """Time each check; (wall seconds, seconds per kind, number followed)."""
    per_kind: dict[str, float] = {}
    followed = 0
    clock = time.perf_counter
    start = clock()
    for rule_, reply in checks:
        t0 = clock()
        followed += rule_.check(reply)
        per_kind[rule_.id] = per_kind.get(rule_.id, 0.0) + clock() - t0
    return clock() - start, per_kind, followed


def _worker(checks, barrier, queue) -> None:
    barrier.wait()
    start = time.perf_counter()  # CLOCK_MONOTONIC: comparable between processes
    run_checks(checks)
    queue.put((start, time.perf_counter()))


def run_parallel(checks: list, workers: int) -> float:
    """Checks per second with `workers` forked processes sharing the checks round robin."""
    ctx = multiprocessing.get_context("fork")
    barrier, queue = ctx.Barrier(workers), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(checks[i::workers], barrier, queue)) for i in range(workers)]
    for p in procs:
        p.start()
    spans = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    return len(checks) / (max(e for _, e in spans) - min(s for s, _ in spans))


def cold_checks(n_per_kind: int, seed: int) -> list:
    """n_per_kind checks of every kind, each on a response of its own, in shuffled order."""
    rng = random.Random(seed + 1)
    kinds = sorted(KINDS)
    replies = responses(n_per_kind * len(kinds), seed)
    checks = [(rule(k, rng, r), r) for k, r in zip(kinds * n_per_kind, replies)]
    rng.shuffle(checks)
    return checks


def shared_checks(replies: list[str], seed: int) -> list:
    """Every kind on every response: distinct (kind, response) pairs, response by response."""
    rng = random.Random(seed + 2)
    return [(rule(k, rng, r), r) for r in replies for k in sorted(KINDS)]


def report(label: str, runs: list[tuple[float, dict, int]], n: int) -> float:
    """Print best and median checks/s of repeated runs; return the best."""
    rates = sorted(n / wall for wall, _, _ in runs)
    print(f"{label}_checks: {n}")
    print(f"{label}_checks_per_s_best: {rates[-1]:.0f}")
    print(f"{label}_checks_per_s_median: {statistics.median(rates):.0f}")
    print(f"{label}_us_per_check_best: {1e6 / rates[-1]:.1f}")
    return rates[-1]


def per_kind_table(label: str, runs: list[tuple[float, dict, int]], counts: dict[str, int]) -> None:
    """Microseconds per check of each kind (best run), slowest first, with its share of time."""
    best = {k: min(r[1][k] for r in runs) for k in runs[0][1]}
    total = sum(best.values())
    print(f"--- {label}: per kind, best of {len(runs)} (us/check, share of time) ---")
    for kind, secs in sorted(best.items(), key=lambda kv: -kv[1]):
        print(f"{label}_us {kind}: {secs / counts[kind] * 1e6:.1f} ({secs / total:.0%})")


def every_kind(name: str, replies: list[str], args) -> None:
    """Every kind on each of `replies`, from cold caches, repeated; prints the figures."""
    runs = []
    for _ in range(args.repeat):
        checks = shared_checks(replies, args.seed)
        clear_caches()
        runs.append(run_checks(checks))
    report(name, runs, len(checks))
    per_kind_table(name, runs, {k: len(replies) for k in KINDS})


def main() -> int:
    parser = argparse.ArgumentParser(description="Rule checks per second over all 25 kinds.")
    parser.add_argument("--per-kind", type=int, default=400, help="cold checks per kind (distinct responses)")
    parser.add_argument("--responses", type=int, default=400, help="responses for the per-response figure")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each figure")
    parser.add_argument("--workers", type=int, default=2, help="processes for the parallel cold figure")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-ifeval", action="store_true", help="skip the shared IFEval responses")
    args = parser.parse_args()

    print(f"cpu_count: {os.cpu_count()}")
    print(f"loadavg_start: {loadavg()}")
    t0 = time.perf_counter()
    text.language("Warm up the language profiles.")
    text.sentences("Warm up. The tokenizers.")
    print(f"init_seconds: {time.perf_counter() - t0:.3f}")
    run_checks(shared_checks(responses(100, args.seed + 100), args.seed))  # untimed warm-up

    runs = []
    for i in range(args.repeat):  # fresh responses each run so that nothing is cached
        checks = cold_checks(args.per_kind, args.seed + 1000 * i)
        clear_caches()
        runs.append(run_checks(checks))
    counts = {k: args.per_kind for k in KINDS}
    cold = report("cold", runs, len(checks))
    print(f"cold_followed_share: {runs[-1][2] / len(checks):.2f}")
    per_kind_table("cold", runs, counts)

    parallel = None
    if args.workers > 1:
        rates = []
        for i in range(args.repeat):
            checks = cold_checks(args.per_kind, args.seed + 1000 * (i + args.repeat))
            clear_caches()
            rates.append(run_parallel(checks, args.workers))
        parallel = max(rates)
        print(f"cold_{args.workers}_workers_checks_per_s_best: {parallel:.0f}")
        print(f"cold_{args.workers}_workers_checks_per_s_median: {statistics.median(rates):.0f}")

    every_kind("per_response", responses(args.responses, args.seed + 5000), args)
    if not args.no_ifeval and IFEVAL_RESPONSES.exists():
        lines = IFEVAL_RESPONSES.read_text(encoding="utf-8").splitlines()
        every_kind("ifeval_gpt4", [json.loads(line)["response"] for line in lines if line.strip()], args)
    elif not args.no_ifeval:
        print(f"ifeval: {IFEVAL_RESPONSES} not found, skipped")

    info = text.language.cache_info()
    print(f"text_caches_last_run: language hits={info.hits} misses={info.misses}")
    print(f"loadavg_end: {loadavg()}")
    figure, label = (parallel, f"{args.workers}_workers") if parallel else (cold, "1_process")
    print(
        f"RESULT rules_cold_checks_per_s={figure:.0f} ({label}) target={TARGET} "
        f"ok={str(figure >= TARGET).lower()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
