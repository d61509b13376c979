"""IFEval scoring time: strict + loose verdicts for the shared 540 GPT-4 responses.

Reads ../shared/data/ifeval (relative to the repository root) once, then times, separately:
the one-time initialisation (language profiles, tokenizers), and scoring (`evaluate`, strict and
loose) from a fresh state: every per-text and per-word cache is cleared before each repeat.
Target: scoring in < 1 s, process start (imports) excluded.

--reference also scores once with the original implementations (langdetect.detect, nltk's
PunktSentenceTokenizer and NLTKWordTokenizer) and checks that every verdict is the same;
--check-langdetect compares langid.detect with langdetect.detect text by text.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from common import loadavg  # noqa: E402

from rnr_core.ifeval import accuracies, evaluate, read_prompts, read_responses, write_results  # noqa: E402
from rnr_core.rules import langid, length, style, text  # noqa: E402
from rnr_core.rules.evaluate import loose_variants  # noqa: E402

TARGET_S = 1.0
DATA = ROOT.parent / "shared" / "data" / "ifeval"
EXPECTED = {"strict": (0.7722, 0.8377), "loose": (0.7981, 0.8582)}  # prompt, instruction level
# A few lines per language for --check-langdetect, beyond the IFEval texts.
SAMPLES = {
    "fr": "Le petit chat dort tranquillement sur le canapé pendant que la pluie tombe dehors.",
    "de": "Die Straßenbahn fährt jeden Morgen pünktlich um sieben Uhr ab, heute war sie verspätet.",
    "es": "El niño comió una manzana mientras esperaba el autobús en la esquina de la calle.",
    "it": "Domani andremo al mare con gli amici e mangeremo una pizza sulla spiaggia.",
    "pt": "O governo anunciou novas medidas para melhorar a educação pública em todo o país.",
    "nl": "Het weer in Nederland is vaak wisselvallig, dus neem altijd een paraplu mee.",
    "ru": "Вчера вечером мы гуляли по парку и разговаривали о будущем нашей страны.",
    "bg": "Утре ще отидем на планина, ако времето е хубаво и няма дъжд.",
    "ja": "今日はとても良い天気なので、公園で散歩をしましょう。",
    "zh": "我们明天早上去图书馆学习，然后一起吃午饭。",
    "ko": "오늘은 날씨가 정말 좋아서 친구들과 함께 공원에 산책하러 갔습니다.",
    "ar": "ذهبت إلى السوق لشراء الخضروات والفواكه الطازجة لعائلتي الكبيرة.",
    "fa": "من هر روز صبح یک فنجان چای می‌نوشم و روزنامه می‌خوانم.",
    "hi": "मैं हर सुबह पार्क में टहलने जाता हूँ और ताज़ी हवा का आनंद लेता हूँ।",
    "bn": "আমি প্রতিদিন সকালে পার্কে হাঁটতে যাই এবং তাজা বাতাস উপভোগ করি।",
    "ta": "நான் ஒவ்வொரு காலையும் பூங்காவில் நடக்கச் செல்கிறேன்.",
    "th": "ฉันไปเดินเล่นที่สวนสาธารณะทุกเช้าและสูดอากาศบริสุทธิ์",
    "vi": "Tôi thường đi dạo trong công viên vào mỗi buổi sáng và hít thở không khí trong lành.",
    "tr": "Her sabah parkta yürüyüşe çıkıyorum ve temiz havanın tadını çıkarıyorum.",
    "pl": "Każdego ranka chodzę na spacer do parku i cieszę się świeżym powietrzem.",
    "fi": "Kävelen joka aamu puistossa ja nautin raikkaasta ilmasta.",
    "sv": "Jag går en promenad i parken varje morgon och njuter av den friska luften.",
    "ro": "În fiecare dimineață mă plimb prin parc și mă bucur de aerul curat.",
    "el": "Κάθε πρωί περπατώ στο πάρκο και απολαμβάνω τον καθαρό αέρα.",
    "he": "אני הולך לטייל בפארק כל בוקר ונהנה מהאוויר הצח.",
    "sw": "Kila asubuhi ninatembea katika bustani na kufurahia hewa safi.",
    "en": "Every morning I take a walk in the park and enjoy the fresh air.",
}


def clear_caches() -> None:
    """Forget every per-text and per-word result, as in a fresh process after initialisation."""
    for fn in (text.sentences, text.word_tokens, text.language, text._treebank, text._contains_sentbreak):
        fn.cache_clear()
    for cache in (langid._SPACED, langid._LAST):
        cache.clear()


def initialise() -> float:
    """Seconds for the one-time set-up: language profiles, random stream, tokenizers."""
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


def reference(prompts, responses) -> tuple[float, dict]:
    """Score with the original calls (langdetect, nltk's Punkt and Treebank tokenizers, each
    cached per text as text.py did) in place of the fast ones; langdetect loaded beforehand."""
    from langdetect import DetectorFactory, detect, detector_factory
    from langdetect.lang_detect_exception import LangDetectException
    from nltk.tokenize import NLTKWordTokenizer

    DetectorFactory.seed = 0
    detector_factory.init_factory()  # its one-time load, not scoring
    punkt, words = text._sentence_tokenizer(), NLTKWordTokenizer()

    @lru_cache(maxsize=4096)
    def language(value):
        try:
            return detect(value)
        except LangDetectException:
            return None

    @lru_cache(maxsize=4096)
    def sentences(value):
        return tuple(punkt.tokenize(value))

    @lru_cache(maxsize=4096)
    def word_tokens(value):
        return tuple(t for s in sentences(value) for t in words.tokenize(s))

    saved = style.language, style.word_tokens, length.sentences
    style.language, style.word_tokens, length.sentences = language, word_tokens, sentences
    try:
        start = time.perf_counter()
        results = evaluate(prompts, responses)
        return time.perf_counter() - start, results
    finally:
        style.language, style.word_tokens, length.sentences = saved


def check_langdetect(prompts, responses) -> None:
    """langid.detect against langdetect.detect on every response, loose variant, prompt and sample."""
    from langdetect import DetectorFactory, detect
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0

    def outcome(fn, value):
        try:
            return fn(value)
        except LangDetectException as exc:
            return f"error {exc.code}"

    texts = list(responses.values())
    texts += [v for r in responses.values() for v in loose_variants(r) if v.strip()]
    texts += [p.prompt for p in prompts] + list(SAMPLES.values())
    texts += [v.upper() for v in SAMPLES.values()] + [v.lower() for v in SAMPLES.values()]
    distinct = list(dict.fromkeys(texts))
    start = time.perf_counter()
    ours = [outcome(lambda v: langid.detect(v, seed=0), t) for t in distinct]
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    theirs = [outcome(detect, t) for t in distinct]
    theirs_s = time.perf_counter() - start
    differ = [t for t, a, b in zip(distinct, ours, theirs) if a != b]
    print(f"langdetect_check_texts: {len(distinct)} distinct ({len(texts)} with repeats)")
    print(f"langdetect_check_different: {len(differ)}")
    print(f"langdetect_check_seconds: langid {ours_s:.2f} langdetect {theirs_s:.2f}")
    for t in differ[:5]:
        print(f"  differs: {t[:80]!r}")


def main() -> int:
    parser = argparse.ArgumentParser(description="IFEval strict + loose scoring time.")
    parser.add_argument(
        "--data", type=Path, default=DATA, help="folder with input_data.jsonl and responses_gpt4.jsonl"
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--reference", action="store_true", help="also score with the original langdetect / nltk calls"
    )
    parser.add_argument(
        "--check-langdetect", action="store_true", help="compare langid with langdetect text by text"
    )
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

    if args.reference:
        ref_s, ref = reference(prompts, responses)
        print(f"reference_score_seconds: {ref_s:.3f}")
        print(f"reference_rows_identical: {str(ref == results).lower()}")
    if args.check_langdetect:
        check_langdetect(prompts, responses)

    print(f"loadavg_end: {loadavg()}")
    best = min(times)
    print(f"RESULT ifeval_score_seconds={best:.3f} target={TARGET_S:.1f} ok={str(best < TARGET_S).lower()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
