"""The train command: fine-tune a model on an export, or list the registered fine-tunes."""

import inspect
import sys
from contextlib import contextmanager

from rnr_core import cli
from rnr_core.cli import _emit, _positive, _run_async, command
from rnr_core.cli.tables import number, table
from rnr_core.errors import SettingError


def _defaults() -> dict:
    from rnr_core.train import train_model

    return {n: p.default for n, p in inspect.signature(train_model).parameters.items()}


def _train_args(p):
    d = _defaults()
    p.add_argument(
        "--data", metavar="EXPORT_DIR", help="an export folder with train.jsonl in the messages format"
    )
    p.add_argument(
        "--base",
        default=d["base"],
        metavar="SPEC",
        help="local (the embedded SmolLM2), hf:<checkpoint folder> or a fine-tune's name (default local)",
    )
    p.add_argument("--out", metavar="DIR", help="folder for the model (default $RNR_HOME/fine-tunes/NAME)")
    p.add_argument("--name", help="register the model under this name (default: the --out folder's name)")
    p.add_argument("--lora", action="store_true", help="train LoRA adapters, merged into the model when done")
    p.add_argument(
        "--epochs",
        type=_positive,
        default=d["epochs"],
        metavar="N",
        help=f"passes over the data (default {d['epochs']})",
    )
    p.add_argument("--max-steps", type=_positive, metavar="N", help="stop after N steps (overrides --epochs)")
    for flag, key, kind, text in (
        ("--batch-size", "batch_size", _positive, "samples per step"),
        ("--learning-rate", "learning_rate", float, "peak learning rate"),
        ("--max-length", "max_length", _positive, "tokens per sample; longer ones are cut"),
        ("--save-steps", "save_steps", _positive, "steps between checkpoints"),
        ("--seed", "seed", int, "shuffling and initialisation seed"),
    ):
        metavar = "F" if kind is float else "N"
        p.add_argument(flag, type=kind, default=d[key], metavar=metavar, help=f"{text} (default {d[key]:g})")
    p.add_argument(
        "--no-resume", action="store_true", help="start over from the base even if --out holds a checkpoint"
    )
    p.add_argument("--list", action="store_true", help="list the registered fine-tunes instead of training")


@contextmanager
def _steps(store, name: str):
    """A progress bar over the training steps, with the last logged loss; yields the progress callback."""
    from tqdm import tqdm

    bar = tqdm(desc=f"training {name}", unit="step", disable=None, file=sys.stderr)

    def update(done: int, total: int, failed: int = 0) -> None:
        bar.total, bar.n = total, done
        losses = store.train_losses(name)
        if losses and losses[-1]["loss"] is not None:
            bar.set_postfix(loss=f"{losses[-1]['loss']:.4f}", refresh=False)
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()


def _result_text(r: dict) -> str:
    resumed = f", resumed from step {r['resumed_from']}" if r["resumed_from"] else ""
    return (
        f"Trained {r['name']}: {r['steps']} steps on {r['samples']} samples{resumed}; loss "
        f"{number(r['first_loss'], 4)} -> {number(r['last_loss'], 4)}.\n"
        f"Saved in {r['out']} and registered as {r['name']}: use --model {r['name']} "
        f"(or {r['spec']}) with rnr eval."
    )


@command("train", "fine-tune a model on an export (TRL SFT, loss on the assistant's turns)")(_train_args)
def _train(args, store):
    if args.list:
        return _list(args, store)
    if not args.data:
        raise SettingError("Give --data EXPORT_DIR (a folder 'rnr export' wrote), or --list.")
    from rnr_core.train import train_model
    from rnr_core.train.run import default_name

    name = args.name or default_name(args.out)
    settings = {k: getattr(args, k) for k in ("lora", "epochs", "max_steps", "batch_size", "learning_rate")}
    settings.update({k: getattr(args, k) for k in ("max_length", "save_steps", "seed")})
    try:
        with _steps(store, name) as update:
            result = _run_async(
                train_model(
                    store,
                    args.data,
                    base=args.base,
                    out=args.out,
                    name=name,
                    resume=not args.no_resume,
                    progress=update,
                    started_by=cli.os_user(),
                    **settings,
                )
            )
    except KeyboardInterrupt:
        ft = store.fine_tune(name)
        if ft is None or ft["status"] != "cancelled":
            raise
        again = "the same command" if args.name or args.out else f"the same command with --name {name}"
        print(
            f"Stopped. The last checkpoint in {ft['settings']['out']} is kept: run {again} to go on from it.",
            file=sys.stderr,
        )
        return 130
    _emit(args, result, _result_text)


def _list(args, store):
    rows = store.fine_tunes()
    for ft in rows:
        losses = store.train_losses(ft["name"])
        ft["steps"] = losses[-1]["step"] if losses else None
        ft["last_loss"] = losses[-1]["loss"] if losses else None

    def text(rows: list[dict]) -> str:
        if not rows:
            return "No fine-tunes yet. Train one with 'rnr train --data EXPORT_DIR'."
        cells = [
            [
                f["name"],
                f["status"],
                f["base"],
                f["steps"] if f["steps"] is not None else "-",
                number(f["last_loss"], 4),
                f["spec"],
            ]
            for f in rows
        ]
        return table(["name", "status", "base", "steps", "loss", "spec"], cells)

    _emit(args, rows, text)
