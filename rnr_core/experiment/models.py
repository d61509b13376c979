"""The models of the experiment, all on the transformers backend so the comparison is fair: the base
(the embedded GGUF dequantized once), its fine-tune and the control fine-tune."""

import threading
from pathlib import Path

from rnr_core.experiment.steps import progress_line
from rnr_core.models.hf import HFModel, load_checkpoint
from rnr_core.models.registry import _LOADED, register_model

_REGISTERED: dict[str, int] = {}


class _OneAtATime(HFModel):
    """The transformers backend with one batch at a time in the whole process: transformers' lazy
    imports and a fast tokenizer fail when several batches' threads first use them together."""

    _every = threading.Lock()

    def generate_batch(self, conversations, params):
        with self._every:
            return super().generate_batch(conversations, params)


def base_spec(store, base: str) -> str:
    """An `hf:` spec for the base model: `local` is dequantized once into a cached checkpoint."""
    from rnr_core.train.base import resolve_base

    return f"hf:{resolve_base(store, base).folder()}"


def register(spec: str, batch_size: int) -> None:
    """Serve `spec` with generate batches of `batch_size` (the default backend batches 8)."""
    if _REGISTERED.get(spec) == batch_size and spec in _LOADED:
        return
    load_checkpoint(spec.removeprefix("hf:"))  # loaded here, once, before batches start in threads
    model = _OneAtATime(spec.removeprefix("hf:"), batch_size=batch_size)
    model.spec = spec
    register_model(spec, model)
    _REGISTERED[spec] = batch_size


async def train(store, cfg, data: Path, out: Path, name: str, say, started_by) -> dict:
    """Fine-tune the base on the rows in `data`; returns the new model's spec and training figures."""
    from rnr_core.train import train_model

    t = cfg.train
    result = await train_model(
        store,
        str(data),
        base=t["base"],
        out=str(out),
        name=name,
        max_steps=t["max_steps"],
        batch_size=t["batch_size"],
        learning_rate=t["learning_rate"],
        max_length=t["max_length"],
        started_by=started_by,
        progress=progress_line(say, f"train {name}"),
    )
    return {"spec": f"hf:{out}", "name": name, "result": result}


def truncated_share(store, eval_id: str, max_tokens: int) -> float | None:
    """The share of answers that used the whole token budget (cut off, so an end phrase is lost)."""
    row = store.get_eval(eval_id)
    answers = [r["response"] for r in store.eval_responses(eval_id).values() if r["response"]]
    if not answers:
        return None
    tokenizer, _ = load_checkpoint(row["model"].removeprefix("hf:"))
    lengths = [len(tokenizer(a, add_special_tokens=False)["input_ids"]) for a in answers]
    return sum(n >= max_tokens - 2 for n in lengths) / len(lengths)  # decoding may merge a token or two
