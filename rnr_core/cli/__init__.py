"""The `rnr` command: parse arguments, call one core function, print the result.

Commands live in one module per group (data, runs, review, evaluate, compare, train) and register
here with `command`.
"""

import argparse
import asyncio
import getpass
import importlib
import json
import os
import signal
import sys
import traceback
from collections.abc import Callable
from contextlib import contextmanager

from rnr_core import settings
from rnr_core.errors import NotFound, RnrError, SettingError
from rnr_core.secrets import scrub

COMMANDS: dict[str, tuple[str, Callable, Callable]] = {}


def command(name: str, help: str):
    """Register `fn(args, store)`; the decorated `configure(parser)` adds its arguments."""

    def register(configure):
        def bind(fn):
            COMMANDS[name] = (help, configure, fn)
            return fn

        return bind

    return register


def _count(text: str) -> int:
    """argparse type for a non-negative integer."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative; give 0 or more")
    return value


def _positive(text: str) -> int:
    """argparse type for a count of at least one."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is too small; give 1 or more")
    return value


def _seconds(text: str) -> float:
    """argparse type for a positive number of seconds."""
    try:
        return settings.seconds(text, "--timeout")
    except SettingError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _timeout_arg(p) -> None:
    p.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help=f"how long one model request may take (default $RNR_TIMEOUT, else {settings.DEFAULT_TIMEOUT:g})",
    )


def os_user() -> str | None:
    """The OS user, or None where the process has none (no USER/LOGNAME and no passwd entry)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a bare container: the caller decides whether that matters
        return None


def acting_user(flag: str) -> str:
    """Who acts from the CLI when no flag names someone: the OS user."""
    user = os_user()
    if user is None:
        raise SettingError(
            "Cannot tell who you are: the environment has no USER or LOGNAME and this process's user has "
            f"no entry in the system's user list. Pass {flag} NAME to say who acts."
        )
    return user


def _emit(args, data, human: Callable[[object], str]) -> None:
    print(json.dumps(data, indent=2, default=str, ensure_ascii=False) if args.json else human(data))


@contextmanager
def _progress(label: str, shown: bool = True):
    """A progress bar on stderr (when it is a terminal); yields the core's progress callback."""
    from tqdm import tqdm

    bar = tqdm(desc=label, unit="item", disable=None if shown else True, file=sys.stderr)

    def update(done: int, total: int, failed: int = 0) -> None:
        bar.total, bar.n = total, done
        if failed:
            bar.set_postfix(failed=failed, refresh=False)
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()


def _missing(what: str, key):
    raise NotFound(f"No {what} {key!r}.")


NO_STORE = {"models", "ifeval", "config"}

# The order `rnr --help` lists commands in: the workflow's order, not the modules'. Others follow.
LISTED = (
    "ingest",
    "datasets",
    "generate",
    "runs",
    "samples",
    "stats",
    "judge",
    "export",
    "train",
    "models",
    "config",
    "tasks",
    "ifeval",
)


# ---- entry point -------------------------------------------------------------------------


def _add_common(p) -> None:
    p.add_argument(
        "--db", help="DuckDB file (default: $RNR_DB, else $RNR_HOME/rnr.duckdb, else ~/.rnr/rnr.duckdb)"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rnr", description="RNR Studio: system-prompt following data.")
    parser.add_argument(
        "--debug", action="store_true", help="on an error, show the traceback too (or set RNR_DEBUG=1)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in sorted(COMMANDS, key=_listed):
        help_text, configure, _ = COMMANDS[name]
        # argparse %-formats help strings, so a literal % must be doubled there.
        child = sub.add_parser(name, help=help_text.replace("%", "%%"), description=help_text)
        if name != "samples":
            _add_common(child)
        configure(child)
    return parser


def _listed(name: str) -> int:
    return LISTED.index(name) if name in LISTED else len(LISTED)


def _interrupt(signum, frame):
    raise KeyboardInterrupt  # SIGTERM stops a run the same way Ctrl-C does


def _run_async(work):
    """Run a core coroutine; Ctrl-C and SIGTERM cancel it, so it can mark its work resumable."""

    async def main():
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)
        return await work

    try:
        return asyncio.run(main())
    except asyncio.CancelledError:
        raise KeyboardInterrupt from None


def _open_store(args):
    from rnr_core.store import Store

    return Store(settings.db_path(args.db))


def _run(args) -> int | None:
    handler = COMMANDS[args.command][2]
    if getattr(args, "timeout", None):
        os.environ["RNR_TIMEOUT"] = str(args.timeout)  # what the backends read when they are built
    if args.command in NO_STORE:
        return handler(args, None)
    with _open_store(args) as store:
        try:
            return handler(args, store)
        except Exception as exc:  # blocks missing past the file's end fail only the query that reads them
            damage = store.damage(exc)
            if damage is None:
                raise
            raise damage from exc


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    debug = args.debug or settings.debug()
    try:
        return _run(args) or 0
    except RnrError as exc:
        _report(args, str(exc), debug)
        return 2
    except KeyboardInterrupt:
        print("Interrupted. Finished work is saved; 'rnr runs' shows how to resume.", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not a user error: say so, and keep exit code 2 for user errors
        hint = "" if debug else " Rerun with --debug (or RNR_DEBUG=1) to see the traceback, and report it."
        _report(args, f"unexpected {type(exc).__name__}: {exc}.{hint}", debug)
        return 1


def _report(args, message: str, debug: bool) -> None:
    if debug:
        traceback.print_exc()
    message = scrub(message)  # errors from a server may echo a key back
    if args.json:
        print(json.dumps({"error": message}))
    print(f"Error: {message}", file=sys.stderr)


# Each group registers its commands with the helpers above, so the groups are imported last.
GROUPS = ("data", "runs", "review", "evaluate", "compare", "train", "experiment")
for _group in GROUPS:
    importlib.import_module(f"rnr_core.cli.{_group}")

from rnr_core.cli.runs import _run_config  # noqa: E402, F401  (tests build a RunConfig from flags)
