"""`train_model`: check everything, register the fine-tune, train in a thread, record how it ended."""

import asyncio
import re
import threading
from datetime import datetime
from pathlib import Path

from rnr_core.errors import SettingError
from rnr_core.models import finetunes
from rnr_core.models.registry import ALIASES
from rnr_core.progress import Progress, silent
from rnr_core.secrets import scrub
from rnr_core.train import outdir
from rnr_core.train.base import Base, resolve_base
from rnr_core.train.data import load_rows
from rnr_core.train.fit import Plan, fit, quiet

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def _check_name(name: str, out: Path, store) -> None:
    """A name a model spec cannot be mistaken for, not already naming a fine-tune in another folder."""
    if not _NAME.match(name) or name in ALIASES:
        raise SettingError(
            f"Fine-tune name {name!r}: use letters, digits, '.', '_' or '-' (up to 64, starting with a "
            f"letter or digit), and not a model spec such as {', '.join(ALIASES)}."
        )
    taken = store.fine_tune(name)
    if taken and taken["spec"] != finetunes.spec_of(out):
        raise SettingError(
            f"{name!r} already names the fine-tune in {taken['spec'].partition(':')[2]}.",
            hint="train_name",
            out=taken["spec"].partition(":")[2],
        )


def _numbers(epochs, max_steps, batch_size, learning_rate, max_length, save_steps) -> None:
    for flag, value in (("epochs", epochs), ("batch size", batch_size), ("max length", max_length)):
        if not isinstance(value, int) or value < 1:
            raise SettingError(f"Training {flag} is {value!r}: give a whole number of 1 or more.")
    if max_steps is not None and (not isinstance(max_steps, int) or max_steps < 1):
        raise SettingError(f"Max steps is {max_steps!r}: give 1 or more, or none to let the epochs decide.")
    if not isinstance(save_steps, int) or save_steps < 1:
        raise SettingError(f"Save steps is {save_steps!r}: give 1 or more.")
    if not 0 < learning_rate < 1:
        raise SettingError(f"Learning rate is {learning_rate!r}: give a number between 0 and 1, e.g. 5e-5.")


def default_name(out=None) -> str:
    """A fine-tune's name when none is given: its folder's name, else one from the time."""
    return Path(out).name if out else f"ft-{datetime.now():%Y%m%d-%H%M%S}"


def _names(out, name) -> tuple[Path, str]:
    """The output folder and the fine-tune's name, each defaulting from the other."""
    name = name or default_name(out)
    out = Path(out).expanduser() if out else outdir.default_out(name)
    return out.absolute(), name


def _keep(base: Base, data: Path) -> list[Path]:
    """The folders training reads, which the output must not overlap."""
    from rnr_core import settings
    from rnr_core.models.convert import cached_checkpoint_dir

    folder = base.checkpoint or cached_checkpoint_dir(base.gguf, settings.rnr_home() / "models")
    return [data, folder]


async def _run_in_thread(plan: Plan, on_step, on_log) -> dict:
    """`fit` in a worker thread; a cancel asks it to stop, waits for its checkpoint, then propagates."""
    stop = threading.Event()
    work = asyncio.ensure_future(asyncio.to_thread(fit, plan, stop, on_step, on_log))
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        stop.set()
        while not work.done():  # the trainer saves its checkpoint first; that takes a moment
            try:
                await asyncio.shield(work)
            except asyncio.CancelledError:
                continue
        raise


def check_request(store, data, base="local", out=None, name=None, numbers=()) -> tuple:
    """The export folder, its rows, the base, the output folder and the name; or the error that stops
    training before it starts. `numbers`: epochs, max steps, batch size, learning rate, max length and
    save steps, when given. Writes nothing, so the app can ask before it starts a job."""
    data = Path(data).expanduser().absolute()
    if numbers:
        _numbers(*numbers)
    rows = load_rows(data)
    found = resolve_base(store, base)
    found.check_template()
    out, name = _names(out, name)
    _check_name(name, out, store)
    return data, rows, found, out, name


async def train_model(
    store,
    data,
    base: str = "local",
    out=None,
    name: str | None = None,
    lora: bool = False,
    epochs: int = 1,
    max_steps: int | None = None,
    batch_size: int = 4,
    learning_rate: float = 5e-5,
    max_length: int = 1024,
    resume: bool = True,
    seed: int = 0,
    save_steps: int = 50,
    progress: Progress = silent,
    started_by: str | None = None,
) -> dict:
    """Fine-tune `base` on the export folder `data` into `out`, registered as `name`; return a summary.

    Everything is checked before any work starts (the export's format, the base, the folder and the
    name). A cancel stops after a checkpoint; `resume` goes on from the last one in `out`.
    `progress(step, total_steps)` follows the optimiser steps; each step's loss goes to the store.
    """
    numbers = (epochs, max_steps, batch_size, learning_rate, max_length, save_steps)
    data, rows, found, out, name = check_request(store, data, base, out, name, numbers)
    settings = {
        "out": str(out),
        "lora": lora,
        "epochs": epochs,
        "max_steps": max_steps,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "max_length": max_length,
        "seed": seed,
        "save_steps": save_steps,
    }
    record = {"name": name, "base": found.spec, "data": str(data), **settings}
    resume_from = outdir.check_out(out, record, resume, _keep(found, data))
    # Checked: from here on work starts, and how it ends is recorded.
    spec = finetunes.spec_of(out)
    store.register_fine_tune(name, spec, found.spec, str(data), settings, "training", created_by=started_by)
    store.clear_train_log(name, outdir.step_of(resume_from) if resume_from else 0)
    outdir.begin(out, record, resume)
    try:
        result = await _train(store, name, found, rows, settings, resume_from, progress)
    except asyncio.CancelledError:
        store.set_fine_tune_status(name, "cancelled", "Cancelled; its last checkpoint is kept to resume.")
        raise
    except Exception as exc:
        store.set_fine_tune_status(name, "failed", scrub(f"{type(exc).__name__}: {exc}"))
        raise
    return {"name": name, "spec": spec, "base": found.spec, "data": str(data), "samples": len(rows), **result}


def _folder(found: Base) -> Path:
    """The base's checkpoint; run in a thread, as importing the libraries and dequantising take a while."""
    quiet()
    return found.folder()


async def _train(store, name, found: Base, rows, settings, resume_from, progress) -> dict:
    loop = asyncio.get_running_loop()

    def on_step(step: int, total: int) -> None:
        loop.call_soon_threadsafe(progress, step, total)

    def on_log(step: int, epoch, loss, rate) -> None:  # written on the loop's thread, which owns the store
        loop.call_soon_threadsafe(store.log_train_step, name, step, epoch, loss, rate)

    plan = Plan(
        rows=rows,
        base=await asyncio.to_thread(_folder, found),
        out=Path(settings["out"]),
        resume_from=resume_from,
        **{k: v for k, v in settings.items() if k != "out"},
    )
    # The thread's step logs were queued on this loop before its result was, so they are all written.
    result = await _run_in_thread(plan, on_step, on_log)
    store.set_fine_tune_status(name, "completed")
    losses = store.train_losses(name)
    return {
        "steps": result["step"],
        "resumed_from": outdir.step_of(resume_from) if resume_from else None,
        "train_loss": result["train_loss"],
        "first_loss": losses[0]["loss"] if losses else None,
        "last_loss": losses[-1]["loss"] if losses else None,
        "out": settings["out"],
    }
