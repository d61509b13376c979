"""Instructions with reference answers (alpaca_eval, Alpaca seed tasks, Alpaca JSONL), split by
instruction into train, dev and held-out groups that never share an instruction."""

import json
import random
import re
from pathlib import Path

from rnr_core.errors import RnrError
from rnr_core.messages import stable_hash


def _seed_task(obj: dict) -> list[dict]:
    """A seed task's first instance: its input is appended to the instruction."""
    instances = obj.get("instances") or []
    if not instances:
        return []
    first = instances[0]
    text = obj["instruction"].strip()
    if (first.get("input") or "").strip():
        text += "\n\n" + first["input"].strip()
    return [{"instruction": text, "output": first.get("output", "")}]


def _alpaca(obj: dict) -> list[dict]:
    text = obj["instruction"].strip()
    if (obj.get("input") or "").strip():
        text += "\n\n" + obj["input"].strip()
    return [{"instruction": text, "output": obj.get("output", "")}]


def read_records(path: str | Path) -> list[dict]:
    """{instruction, output, source} from a JSONL file of Alpaca-style or seed-task records."""
    path = Path(path)
    if not path.is_file():
        raise RnrError(f"No instruction file at {path}: fix the path in [data] sources of the config.")
    rows = []
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise RnrError(f"{path}:{no}: not JSON ({exc}).") from exc
        if not isinstance(obj, dict) or not isinstance(obj.get("instruction"), str):
            raise RnrError(f"{path}:{no}: expected an object with an 'instruction' string.")
        for rec in _seed_task(obj) if "instances" in obj else _alpaca(obj):
            if rec["instruction"] and isinstance(rec["output"], str) and rec["output"].strip():
                rows.append({**rec, "source": f"{path.name}:{no}"})
    return rows


def load(paths: list[str]) -> list[dict]:
    """Records of every file, each instruction once (the first record wins)."""
    seen: dict[str, dict] = {}
    for path in paths:
        for rec in read_records(path):
            seen.setdefault(rec["instruction"].strip().lower(), rec)
    return list(seen.values())


def split(records: list[dict], heldout: int, dev: int, seed: int) -> dict[str, list[dict]]:
    """Disjoint groups by instruction: `heldout` and `dev` records, the rest train (seeded order)."""
    if heldout + dev >= len(records):
        raise RnrError(
            f"Only {len(records)} instructions: cannot hold out {heldout} and keep {dev} for dev "
            "with any left to train on. Lower [benchmark] items or [data] dev, or add sources."
        )
    ordered = sorted(records, key=lambda r: stable_hash([seed, r["instruction"]]))
    return {
        "heldout": ordered[:heldout],
        "dev": ordered[heldout : heldout + dev],
        "train": ordered[heldout + dev :],
    }


_PARAGRAPHS = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def trim(text: str, max_words: int) -> str:
    """Whole leading paragraphs within `max_words` words; a first paragraph that is longer is cut at
    a sentence end (so edits made after trimming, such as an end phrase, land in the training window)."""
    kept, count = [], 0
    for para in _PARAGRAPHS.split(text.strip()):
        n = len(para.split())
        if count + n > max_words:
            if not kept:
                kept.append(_sentences_within(para, max_words))
            break
        kept.append(para.strip())
        count += n
    return "\n\n".join(p for p in kept if p).strip()


def _sentences_within(para: str, max_words: int) -> str:
    out, count = [], 0
    for sentence in _SENTENCE_END.split(para.strip()):
        n = len(sentence.split())
        if count + n > max_words:
            break
        out.append(sentence)
        count += n
    return " ".join(out)


def shuffled(records: list[dict], seed: int) -> list[dict]:
    rows = list(records)
    random.Random(seed).shuffle(rows)
    return rows
