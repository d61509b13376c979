"""Hugging Face transformers checkpoints, with the chat template and batched generation."""

import asyncio
import threading
import time
from functools import lru_cache
from pathlib import Path

from rnr_core.errors import ModelCallError, ModelSpecError
from rnr_core.models.base import Completion, GenParams, Model
from rnr_core.models.registry import backend


def load_checkpoint(path: str):
    """Tokenizer and model, loaded once per process and again when the folder's weights change (a
    fine-tune trained again into the same folder)."""
    return _load(path, _weights_stamp(path))


def _weights_stamp(path: str) -> tuple:
    """Name, size and modification time of each weights file in the folder."""
    folder = Path(path)
    files = sorted(f for pattern in ("*.safetensors", "*.bin") for f in folder.glob(pattern))
    return tuple((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files)


_BATCH = threading.Lock()  # one generate batch at a time in the process, whichever model


@lru_cache(maxsize=2)
def _load(path: str, stamp: tuple):
    """Tokenizer and model from the folder; `stamp` ties the cached pair to the weights it read."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(path, padding_side="left")
        model = AutoModelForCausalLM.from_pretrained(path)
    except OSError as exc:
        raise ModelSpecError(f"Cannot load a transformers checkpoint from {path}: {exc}") from exc
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.eval()
    return tokenizer, model


class HFModel(Model):
    """Concurrent `complete` calls with equal settings are gathered into one `generate` batch."""

    def __init__(self, path: str, batch_size: int = 8, gather_ms: float = 5.0):
        self.path, self.batch_size, self.gather_s = path, batch_size, gather_ms / 1000
        self._pending: list[tuple[list[dict], GenParams, asyncio.Future]] = []
        self._tasks: set[asyncio.Task] = set()  # held so running batches are not garbage-collected

    async def complete(self, messages: list[dict], params: GenParams) -> Completion:
        future = asyncio.get_running_loop().create_future()
        self._pending.append((messages, params, future))
        if len(self._pending) == 1:
            asyncio.get_running_loop().call_later(self.gather_s, self._flush)
        return await future

    def _flush(self) -> None:
        while self._pending:
            # Requests that differ only in seed share a batch; the batch uses the first one's seed.
            shape = _batch_shape(self._pending[0][1])
            batch = [p for p in self._pending if _batch_shape(p[1]) == shape][: self.batch_size]
            taken = {id(p[2]) for p in batch}  # by future identity: equal requests stay distinct
            self._pending = [p for p in self._pending if id(p[2]) not in taken]
            task = asyncio.ensure_future(self._run(batch, batch[0][1]))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, batch, params: GenParams) -> None:
        try:
            results = await asyncio.to_thread(self.generate_batch, [b[0] for b in batch], params)
        except Exception as exc:  # handed to every waiting caller, none is lost
            error = (
                exc
                if isinstance(exc, ModelCallError)
                else ModelCallError(f"transformers failed on {self.path}: {exc}")
            )
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for (_, _, future), result in zip(batch, results):
            if not future.done():  # the caller may have been cancelled meanwhile
                future.set_result(result)

    def generate_batch(self, conversations: list[list[dict]], params: GenParams) -> list[Completion]:
        """Left-pad the chat-templated prompts and generate them in one call, one batch at a time: batches
        in several threads at once raced on importing transformers and on the shared fast tokenizer."""
        with _BATCH:
            return self._generate(conversations, params)

    def _generate(self, conversations: list[list[dict]], params: GenParams) -> list[Completion]:
        import torch

        tokenizer, model = load_checkpoint(self.path)
        prompts = [
            tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True)
            for c in conversations
        ]
        inputs = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(
            model.device
        )
        sampling = (
            {"do_sample": True, "temperature": params.temperature}
            if params.temperature > 0
            else {"do_sample": False}
        )
        with torch.inference_mode():
            if params.seed is not None:
                torch.manual_seed(params.seed)
            start = time.perf_counter()
            out = model.generate(
                **inputs, max_new_tokens=params.max_tokens, pad_token_id=tokenizer.pad_token_id, **sampling
            )
            latency = (time.perf_counter() - start) * 1000
        width = inputs["input_ids"].shape[1]
        results = []
        for row, mask in zip(out, inputs["attention_mask"]):
            new = row[width:]
            new = new[new != tokenizer.pad_token_id]
            results.append(
                Completion(
                    text=tokenizer.decode(new, skip_special_tokens=True).strip(),
                    usage={"prompt_tokens": int(mask.sum()), "completion_tokens": int(len(new))},
                    latency_ms=latency,
                )
            )
        return results


def _batch_shape(params: GenParams) -> tuple:
    return params.temperature, params.max_tokens, params.json_schema is not None


@backend("hf", "hf:<transformers checkpoint directory>")
def _make(rest: str) -> HFModel:
    return HFModel(rest)
