"""The fine-tune's folder: checked before work, its checkpoints while training, the model once done.

The folder holds a marker (what was trained from what), `checkpoint-<step>` folders while training runs,
and at the end the model itself, so that `hf:<folder>` loads it.
"""

import re
import shutil
from pathlib import Path

import orjson

from rnr_core import jsonl, settings
from rnr_core.errors import OutputError
from rnr_core.train import hints  # noqa: F401  (registers the fixes named below)

MARKER = "rnr_train.json"
STAGING = ".final"
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
# What must match for a checkpoint to be continued: the rest (steps, rates) may change on resume.
SAME_FOR_RESUME = ("base", "data", "lora")


def default_out(name: str) -> Path:
    """Where a fine-tune goes when no folder is given: RNR_HOME/fine-tunes/<name>."""
    return settings.rnr_home() / "fine-tunes" / name


def checkpoints(out: Path) -> list[Path]:
    """The folder's checkpoints, oldest first; whole ones only (the trainer writes their state last)."""
    found = [p for p in out.glob("checkpoint-*") if _CHECKPOINT.match(p.name) and p.is_dir()]
    whole = [p for p in found if (p / "trainer_state.json").is_file()]
    return sorted(whole, key=step_of)


def step_of(checkpoint: Path) -> int:
    return int(_CHECKPOINT.match(checkpoint.name)[1])


def marker(out: Path) -> dict | None:
    try:
        return orjson.loads((out / MARKER).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_out(out: Path, record: dict, resume: bool, keep: list[Path]) -> Path | None:
    """Fail now, writing nothing, if `out` cannot take this training; return the checkpoint to resume."""
    jsonl.check_out_dir(out)
    out = out.resolve()
    for folder in keep:
        if _inside(out, folder.resolve()) or _inside(folder.resolve(), out):
            raise OutputError(
                f"Output folder {out} would overlap {folder}, which training reads.", hint="train_out"
            )
    if not out.is_dir() or not any(out.iterdir()):
        return None
    found = marker(out)
    if found is None:
        entries = ", ".join(sorted(p.name for p in out.iterdir())[:5])
        raise OutputError(
            f"Output folder {out} holds files that are not from training ({entries}); nothing was written.",
            hint="train_out",
        )
    last = checkpoints(out)[-1] if resume and checkpoints(out) else None
    changed = [k for k in SAME_FOR_RESUME if found.get(k) != record.get(k)]
    if last is not None and changed:
        was = ", ".join(f"{k} {found.get(k)!r}" for k in changed)
        raise OutputError(
            f"{last} was trained with {was}; it cannot be continued with other {', '.join(changed)}.",
            hint="train_restart",
        )
    return last


def begin(out: Path, record: dict, resume: bool) -> None:
    """Create the folder and its marker; drop half-written checkpoints, and all of them unless resuming."""
    out.mkdir(parents=True, exist_ok=True)
    whole = set(checkpoints(out)) if resume else set()
    for path in out.glob("checkpoint-*"):
        if path.is_dir() and path not in whole:
            shutil.rmtree(path)
    shutil.rmtree(out / STAGING, ignore_errors=True)
    jsonl.write_json(out / MARKER, record)


def publish(out: Path) -> None:
    """Move the model saved in the staging folder into `out`, replacing an earlier one; drop checkpoints.

    The checkpoints go last: until the model is in place, the newest one is what a rerun resumes.
    """
    staging = out / STAGING
    keep = {MARKER, STAGING}
    for old in out.iterdir():
        if old.name not in keep and not _CHECKPOINT.match(old.name):
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    for new in staging.iterdir():
        new.rename(out / new.name)
    staging.rmdir()
    for checkpoint in out.glob("checkpoint-*"):
        shutil.rmtree(checkpoint)
