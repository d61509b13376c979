"""`rnr ifeval`: optionally answer the prompts with a model, then score and write the results."""

import asyncio
from pathlib import Path

from rnr_core import jsonl
from rnr_core.ifeval.evaluate import Prompt, accuracies, evaluate
from rnr_core.ifeval.files import read_prompts, read_responses, write_results
from rnr_core.models.base import GenParams
from rnr_core.models.registry import get_model
from rnr_core.progress import Progress, silent


async def _answer_all(model, prompts: list[Prompt], params: GenParams, progress: Progress) -> list[str]:
    done = 0

    async def one(p: Prompt) -> str:
        nonlocal done
        reply = await model.complete([{"role": "user", "content": p.prompt}], params)
        done += 1
        progress(done, len(prompts))
        return reply.text

    return await asyncio.gather(*(one(p) for p in prompts))


def answer(
    spec: str, prompts: list[Prompt], out: Path, max_tokens: int, progress: Progress | None = None
) -> Path:
    """Answer every prompt greedily and write OUT/responses.jsonl (only once all are answered)."""
    model = get_model(spec)
    params = GenParams(temperature=0.0, max_tokens=max_tokens, seed=0)
    texts = asyncio.run(_answer_all(model, prompts, params, progress or silent))
    path = jsonl.out_dir(out) / "responses.jsonl"
    jsonl.write_jsonl(path, [{"prompt": p.prompt, "response": t} for p, t in zip(prompts, texts)])
    return path


def run_ifeval(
    input_path,
    out_dir,
    responses_path=None,
    model: str | None = None,
    limit: int | None = None,
    max_tokens: int = 1024,
    progress: Progress | None = None,
) -> dict:
    """Score responses (read, or generated with `model`) in strict and loose mode."""
    out = jsonl.check_out_dir(out_dir)  # before any model is loaded or called
    prompts = read_prompts(input_path)
    if model:
        prompts = prompts[:limit] if limit else prompts
        responses_path = answer(model, prompts, out, max_tokens, progress)
    results = evaluate(prompts, read_responses(responses_path, prompts))
    files = write_results(out, results)
    return {
        "prompts": len(prompts),
        "instructions": sum(len(p.rules) for p in prompts),
        "responses": str(responses_path),
        "files": [str(f) for f in files],
        **{mode: accuracies(rows) for mode, rows in results.items()},
    }
