"""IFEval's file formats: input_data.jsonl, response files and eval_results_*.jsonl."""

from pathlib import Path

from rnr_core import jsonl
from rnr_core.errors import EvalInputError, IngestError, RuleError
from rnr_core.ifeval.evaluate import Prompt
from rnr_core.ingest.readers import json_records
from rnr_core.rules.base import build


def _lines(path: Path):
    """(line number, object) for each non-blank JSONL line; errors name file and line."""
    try:
        records = list(json_records(path.read_text(encoding="utf-8"), str(path)))
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalInputError(f"{path}: cannot read ({exc})") from exc
    except IngestError as exc:
        raise EvalInputError(str(exc)) from exc
    for no, obj, _ in records:
        if not isinstance(obj, dict):
            raise EvalInputError(f"{path}:{no}: expected a JSON object, got {type(obj).__name__}")
        yield no, obj


def _field(path, no, obj, name, kind):
    value = obj.get(name)
    if not isinstance(value, kind):
        raise EvalInputError(f"{path}:{no}: field {name!r} must be a {kind.__name__}, got {value!r:.60}")
    return value


def _prompt(path: Path, no: int, obj: dict) -> Prompt:
    ids = _field(path, no, obj, "instruction_id_list", list)
    kwargs = obj.get("kwargs") or [{}] * len(ids)
    if not isinstance(kwargs, list) or len(kwargs) != len(ids):
        raise EvalInputError(f"{path}:{no}: 'kwargs' must be a list with one object per instruction id")
    try:
        rules = [build(i, k, where=f"{path}:{no}") for i, k in zip(ids, kwargs)]
    except RuleError as exc:
        raise EvalInputError(str(exc)) from exc
    return Prompt(obj.get("key"), _field(path, no, obj, "prompt", str), ids, rules, no)


def read_prompts(path: str | Path) -> list[Prompt]:
    """Every prompt with its rules built; the first bad line stops the read."""
    path = Path(path)
    prompts = [_prompt(path, no, obj) for no, obj in _lines(path)]
    if not prompts:
        raise EvalInputError(f"{path}: no prompts in the file")
    return prompts


def read_responses(path: str | Path, prompts: list[Prompt]) -> dict[str, str]:
    """prompt -> response, one for each input prompt and none for anything else."""
    path = Path(path)
    known = {p.prompt for p in prompts}
    found: dict[str, str] = {}
    for no, obj in _lines(path):
        prompt = _field(path, no, obj, "prompt", str)
        response = _field(path, no, obj, "response", str)
        if prompt not in known:
            raise EvalInputError(f"{path}:{no}: this prompt is not in the input file: {prompt[:80]!r}")
        if prompt in found:
            raise EvalInputError(f"{path}:{no}: a second response for the same prompt; keep one")
        found[prompt] = response
    missing = [p for p in prompts if p.prompt not in found]
    if missing:
        first = missing[0]
        raise EvalInputError(
            f"{path}: no response for {len(missing)} of {len(prompts)} prompts, "
            f"the first at input line {first.line} (key {first.key}); "
            "give a response for every prompt"
        )
    return found


def write_results(out_dir: str | Path, results: dict[str, list[dict]]) -> list[Path]:
    """eval_results_strict.jsonl and eval_results_loose.jsonl in out_dir."""
    out = jsonl.out_dir(out_dir)
    paths = [out / f"eval_results_{mode}.jsonl" for mode in results]
    for path, rows in zip(paths, results.values()):
        jsonl.write_jsonl(path, rows)
    return paths
