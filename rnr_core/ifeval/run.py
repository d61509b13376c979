"""`rnr ifeval`: optionally answer the prompts with a model, then score and write the results."""

import asyncio
from pathlib import Path

from rnr_core import jsonl
from rnr_core.attempts import Ask, Engine, group_commit
from rnr_core.errors import ModelCallError, RnrError
from rnr_core.ifeval.evaluate import Prompt, accuracies, evaluate
from rnr_core.ifeval.files import read_prompts, read_responses, write_results
from rnr_core.models.base import GenParams
from rnr_core.models.registry import get_model
from rnr_core.progress import Progress, silent


async def answer(
    store, spec: str, prompts: list[Prompt], out: Path, max_tokens: int, progress: Progress | None = None
) -> Path:
    """Answer every prompt greedily through the store's cache and write OUT/responses.jsonl.

    Every answer is logged as it arrives, so a rerun after a crash pays only for the rest.
    """
    progress = progress or silent
    engine = Engine(store, get_model(spec), f"ifeval:{spec}", 0, max_invalid=0)
    params = GenParams(temperature=0.0, max_tokens=max_tokens)
    done = 0

    async def one(p: Prompt):
        nonlocal done
        ask = Ask(
            f"prompt:{p.key if p.key is not None else p.line}",
            "ifeval",
            [{"role": "user", "content": p.prompt}],
            params,
            parse=str,
        )
        outcome = await engine.run(ask)
        done += 1
        progress(done, len(prompts))
        return outcome

    async with group_commit(store):
        outcomes = await asyncio.gather(*(one(p) for p in prompts))
    failed = [(p, o) for p, o in zip(prompts, outcomes) if o.best is None]
    if failed:
        first, why = failed[0][0], failed[0][1].error or str(engine.abort)
        raise ModelCallError(
            f"{len(failed)} of {len(prompts)} prompts got no answer (first: input line "
            f"{first.line}: {why}). Answers so far are cached; rerun to finish.",
            transient=engine.abort is not None,
        )
    path = jsonl.out_dir(out) / "responses.jsonl"
    jsonl.write_jsonl(
        path, [{"prompt": p.prompt, "response": o.best.parsed} for p, o in zip(prompts, outcomes)]
    )
    return path


async def run_ifeval(
    store,
    input_path,
    out_dir,
    responses_path=None,
    model: str | None = None,
    limit: int | None = None,
    max_tokens: int = 1024,
    progress: Progress | None = None,
) -> dict:
    """Score responses (read, or generated with `model` through `store`) in strict and loose mode."""
    out = jsonl.check_out_dir(out_dir)  # before any model is loaded or called
    prompts = read_prompts(input_path)
    if model:
        if store is None:
            raise RnrError("Answering IFEval prompts with a model needs a store for its call cache.")
        prompts = prompts[:limit] if limit else prompts
        responses_path = await answer(store, model, prompts, out, max_tokens, progress)
    results = evaluate(prompts, read_responses(responses_path, prompts))
    files = write_results(out, results)
    return {
        "prompts": len(prompts),
        "instructions": sum(len(p.rules) for p in prompts),
        "responses": str(responses_path),
        "files": [str(f) for f in files],
        **{mode: accuracies(rows) for mode, rows in results.items()},
    }
