"""The `rnr` command: parse arguments, call one core function, print the result."""

import argparse
import asyncio
import getpass
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


# ---- ingest / datasets -------------------------------------------------------------------


def _ingest_args(p):
    from rnr_core.ingest import FORMATS

    p.add_argument("file", help="Alpaca JSON/JSONL, ShareGPT JSONL, chat JSONL, CSV or Parquet")
    p.add_argument("--name", required=True, help="dataset to add to (created if new)")
    p.add_argument("--format", choices=FORMATS, help="skip detection and read as this format")
    p.add_argument("--column", help="for CSV/Parquet or plain JSON: the field holding the instruction")


@command("ingest", "import an instruction file into a dataset")(_ingest_args)
def _ingest(args, store):
    from dataclasses import asdict

    from rnr_core.ingest import ingest_file

    result = asdict(ingest_file(store, args.file, args.name, args.format, args.column))
    _emit(
        args,
        result,
        lambda r: (
            f"{r['dataset']}: read {r['read']} ({r['format']}), "
            f"added {r['added']}, skipped {r['duplicates']} duplicates"
        ),
    )


@command("datasets", "list datasets")(lambda p: None)
def _datasets(args, store):
    _emit(
        args,
        store.list_datasets(),
        lambda rows: (
            "\n".join(f"{d['name']}\t{d['instructions']} instructions" for d in rows)
            or "No datasets yet. Import one with 'rnr ingest FILE --name NAME'."
        ),
    )


# ---- generate / runs ---------------------------------------------------------------------


# Options that set a RunConfig field: flag, field, type, help. Defaults come from RunConfig itself.
_RUN_OPTIONS = (
    ("--model", "model", str, "model spec; see 'rnr models'"),
    ("-n", "n", int, "instructions to sample"),
    ("--k", "k", int, "instructions per system prompt"),
    ("--rules", "rules", int, "rules per system prompt"),
    ("--max-retries", "max_retries", int, "retries for an invalid reply"),
    (
        "--verifiable-share",
        "verifiable_share",
        float,
        "share of each prompt's rules drawn from the checkable kinds",
    ),
    ("--rejections", "rejections", int, "regenerations of a response that fails a checker"),
    ("--temperature", "temperature", float, "sampling temperature"),
    ("--max-tokens", "max_tokens", int, "response length limit"),
)


def _generate_args(p):
    from dataclasses import fields

    from rnr_core.generate import RunConfig

    defaults = {f.name: f.default for f in fields(RunConfig)}
    p.add_argument("--dataset", help="dataset to sample instructions from")
    for flag, name, kind, text in _RUN_OPTIONS:
        p.add_argument(flag, dest=name, type=kind, help=f"{text} (default {defaults[name]})")
    p.add_argument("--seed", type=int, help="repeat an earlier plan (default: a fresh seed, recorded)")
    p.add_argument("--no-tempting", action="store_true", help="skip turns that push against a rule")
    p.add_argument("--no-out-of-scope", action="store_true", help="skip turns outside the role")
    p.add_argument(
        "--quality-gate",
        choices=("auto", "on", "off"),
        default="auto",
        help="retry system prompts with placeholders, '...', a vague role or repeated rules; 'auto' "
        "(default) is on for every model but the embedded 'local', which is too small to pass it",
    )
    p.add_argument("--no-quality-gate", action="store_true", help="the same as --quality-gate off")
    p.add_argument("--resume", metavar="RUN_ID", help="finish an earlier run instead of starting one")
    _timeout_arg(p)


def _run_config(args):
    from rnr_core.generate import RunConfig

    given = {name: getattr(args, name) for _, name, _, _ in _RUN_OPTIONS if getattr(args, name) is not None}
    return RunConfig(
        dataset=args.dataset,
        seed=args.seed,
        tempting=not args.no_tempting,
        out_of_scope=not args.no_out_of_scope,
        quality_gate="off" if args.no_quality_gate else args.quality_gate,
        **given,
    )


@command("generate", "run the RNR pipeline: system prompts, then responses")(_generate_args)
def _generate(args, store):
    from rnr_core.generate import execute_run, start_run

    if args.resume:
        if args.dataset or args.model:
            raise RnrError(
                "--resume finishes a run with its own dataset and model; drop --dataset and --model."
            )
        run_id = args.resume
    elif not args.dataset:
        raise RnrError("Give --dataset NAME to start a run, or --resume RUN_ID to finish one.")
    else:
        run_id = start_run(store, _run_config(args), started_by=os_user())  # unknown: recorded as such
        seed = store.get_run(run_id)["config"]["seed"]
        print(
            f"Started {run_id} (seed {seed}); if it stops, finish it with 'rnr generate --resume {run_id}'.",
            file=sys.stderr,
        )
    with _progress(run_id) as update:
        run = _run_async(execute_run(store, run_id, update))
    state = _show_run(args, store, run)
    return 0 if state.status == "completed" else 3


def _show_run(args, store, run: dict, failed_items: list[dict] | None = None):
    """Print one run as every view words it (rnr_core.runs, run_words); return its state."""
    from rnr_core import run_words
    from rnr_core.runs import run_state

    state = run_state(store, run["id"])
    data = {
        **{k: run[k] for k in ("id", "dataset", "model", "error", "counts", "created_at")},
        **_state_json(state),
        "error": run_words.error_text(state, "cli") if state.error else None,  # with its CLI fix
        "seed": run["config"]["seed"],
    }
    lines = [_run_line(state), *run_words.failure_lines(state, "cli"), run_words.next_step(state, "cli")]
    text = "\n".join(line for line in lines if line)
    if failed_items is not None:
        data["failed_items"] = failed_items
        text += "".join(_failed_text(i, args.full) for i in failed_items)
    _emit(args, data, lambda _: text)
    return state


def _state_json(state) -> dict:
    from dataclasses import asdict

    fields = asdict(state)
    del fields["stages"], fields["failures"]
    return {
        **fields,
        "items": {**asdict(state.items), "left": state.items.left},
        "stages": {k: {**asdict(v), "left": v.left} for k, v in state.stages.items()},
        "failures": [asdict(f) for f in state.failures],
        "counts": {"done": state.items.done, "failed": state.items.failed, "samples": state.samples},
    }


def _run_line(state) -> str:
    from rnr_core import run_words

    return f"{run_words.headline(state)} - {run_words.summary(state)}"


def _runs_args(p):
    p.add_argument("run_id", nargs="?", help="show one run with its failed items")
    p.add_argument(
        "--full",
        action="store_true",
        help=f"show failed items' raw output whole (default: {RAW_SHOWN} chars)",
    )


@command("runs", "list generation runs, or show one")(_runs_args)
def _runs(args, store):
    from rnr_core.runs import run_states

    if not args.run_id:
        states = run_states(store)
        _emit(
            args,
            [_state_json(s) for s in states],
            lambda _: "\n".join(map(_run_line, states)) or "No runs yet.",
        )
        return
    run = store.get_run(args.run_id) or _missing("run", args.run_id)
    _show_run(args, store, run, store.run_items(args.run_id, "failed"))


RAW_SHOWN = 300  # characters of a failed item's raw output shown without --full


def _failed_text(item: dict, full: bool) -> str:
    raw = item["raw_output"]
    if raw is None:
        return f"\n  {item['item_key']}: {item['error']}"
    if not full and len(raw) > RAW_SHOWN:
        raw = f"{raw[:RAW_SHOWN]}… ({len(raw)} characters; --full shows all)"
    return f"\n  {item['item_key']}: {item['error']}\n    raw output: " + raw.replace("\n", "\n    ")


# ---- samples -----------------------------------------------------------------------------


def _samples_args(p):
    from rnr_core.store import SAMPLE_STATUSES

    sub = p.add_subparsers(dest="action", required=True)
    ls = sub.add_parser("list", help="list samples")
    ls.add_argument("--limit", type=_count, default=20)
    ls.add_argument("--offset", type=_count, default=0)
    ls.add_argument("--status", choices=SAMPLE_STATUSES)
    ls.add_argument("--run", help="only this run's samples")
    show = sub.add_parser("show", help="show one sample in full")
    show.add_argument("id", type=int)
    for action in ("accept", "reject"):
        _review_args(sub.add_parser(action, help=f"{action} samples by id, as the Review page does"), action)
    for child in sub.choices.values():
        _add_common(child)


def _review_args(p, action: str) -> None:
    from rnr_core.review import REJECT_REASONS

    p.add_argument("ids", type=int, nargs="+", help="sample ids ('rnr samples list' shows them)")
    p.add_argument(
        "--reviewer",
        type=_name,
        help="who reviews, recorded with each sample and in its review history (default: the OS user)",
    )
    if action == "reject":
        p.add_argument("--reason", required=True, choices=REJECT_REASONS, help="why they are rejected")
    p.add_argument("--note", help="a note kept with the review")


def _name(text: str) -> str:
    """argparse type for a person's name: not blank."""
    if not text.strip():
        raise argparse.ArgumentTypeError("is blank; give a name, or leave the flag out to use the OS user")
    return text.strip()


@command("samples", "list, show, accept or reject samples")(_samples_args)
def _samples(args, store):
    from rnr_core.stats import with_outcomes

    if args.action == "list":
        rows = with_outcomes(
            store.attach_verdicts(store.list_samples(args.limit, args.offset, args.status, args.run))
        )
        _emit(
            args,
            rows,
            lambda rs: (
                "\n".join(
                    f"{r['id']}\t{r['status']}\t{r['outcome']}\t{r['kind']}\t"
                    f"{_clip(r['messages'][-1]['content'])}"
                    for r in rs
                )
                or "No samples match."
            ),
        )
    elif args.action == "show":
        sample = store.get_sample(args.id) or _missing("sample", args.id)
        sample = with_outcomes(store.attach_verdicts([sample]))[0]
        sample["attempts"] = store.attempts(args.id)
        _emit(args, sample, _sample_text)
    else:
        _review(args, store)


def _review(args, store) -> None:
    """Accept or reject by id through the store's review, which records who and why, as the app does;
    then say what each sample now is: with several reviews per sample, one decision may not decide it."""
    from rnr_core.review import REVIEW_ACTIONS

    reviewer = args.reviewer or acting_user("--reviewer")
    reason = getattr(args, "reason", None)
    changed = store.review(args.ids, args.action, reviewer, reason, args.note)
    status, needed = REVIEW_ACTIONS[args.action], store.labels_per_item("review")
    samples = [_review_outcome(store.get_sample(i), status, needed) for i in dict.fromkeys(args.ids)]
    result = {"status": status, "changed": changed, "reviewer": reviewer, "reason": reason}
    _emit(args, {**result, "samples": samples}, _review_text)


def _review_outcome(sample: dict, wanted: str, needed: int) -> dict:
    """What a sample is after a decision on it: decided, waiting for more people, or disputed."""
    if sample["disputed"]:
        outcome = "disputed"
    elif sample["status"] == "pending":
        outcome = "waiting"
    else:  # decided: by this decision and any agreeing ones, or by an adjudicator's earlier ruling
        outcome = "decided" if sample["status"] == wanted else "ruled"
    return {
        "id": sample["id"],
        "outcome": outcome,
        "status": sample["status"],
        "decisions": sample["decisions"],
        "needed": needed,
    }


def _ids(group: list[dict], counted: bool = False) -> str:
    said = (f"{s['id']} ({s['decisions']} of {s['needed']})" if counted else str(s["id"]) for s in group)
    return ", ".join(said)


# How each outcome reads, given its samples.
_OUTCOME_TEXT = {
    "decided": lambda g: f"{g[0]['status']}: {_ids(g)}",
    "waiting": lambda g: f"still pending until enough reviewers decide (decided so far): {_ids(g, True)}",
    "disputed": lambda g: f"disputed (the reviewers disagree), waiting for an adjudicator: {_ids(g)}",
    "ruled": lambda g: f"left as an adjudicator ruled ({g[0]['status']}): {_ids(g)}",
}


def _review_text(result: dict) -> str:
    from rnr_core.review import plural

    samples, by = result["samples"], result["reviewer"]
    if all(s["outcome"] == "decided" for s in samples):
        return f"{plural(len(samples), 'sample')} {result['status']} by {by}"
    lines = [f"{by}'s decision ({result['status']}) is recorded on {plural(len(samples), 'sample')}:"]
    for outcome, says in _OUTCOME_TEXT.items():
        group = [s for s in samples if s["outcome"] == outcome]
        if group:
            lines.append(f"  {plural(len(group), 'sample')} {says(group)}")
    return "\n".join(lines)


def _clip(text: str, width: int = 70) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _sample_text(s: dict) -> str:
    turns = "\n".join(f"[{m['role']}] {m['content']}" for m in s["messages"])
    return (
        f"sample {s['id']} ({s['status']}, {s['outcome']}, {s['kind']}) from {s['run_id']}, "
        f"dataset {s['dataset']}, model {s['model']}\n\n[system]\n{s['system_prompt']}\n\n"
        f"{turns}\n\n[assistant]\n{s['response']}\n\n[verdicts]\n{_verdict_lines(s)}"
    )


def _verdict_lines(s: dict) -> str:
    lines = [
        f"{v['rule_id']}\t{v['verdict']}\t{v['judge']}\t{_clip(v['rationale'] or '', 60)}"
        for v in s["verdicts"]
    ]
    if len(s["attempts"]) > 1:
        lines.append(
            f"({len(s['attempts'])} attempts; kept attempt "
            f"{next(a['attempt'] for a in s['attempts'] if a['kept'])})"
        )
    return "\n".join(lines) or "none yet; 'rnr judge' gives them"


def _missing(what: str, key):
    raise NotFound(f"No {what} {key!r}.")


# ---- stats / export / models -------------------------------------------------------------


def _stats_args(p):
    p.add_argument("--run", help="pass rates of this run only")
    p.add_argument("--dataset", help="pass rates of this dataset's samples only")


def _rate_text(name: str, r: dict) -> str:
    if r["rate"] is None:
        return f"{name}: no judged samples"
    low, high = r["ci95"]
    return f"{name}: {r['rate']:.3f} [{low:.3f}, {high:.3f}] (n={r['n']})"


def _stats_text(o: dict) -> str:
    q, tries = o.pop("quality"), o.pop("failed_tries")
    lines = [f"{k}: {v}" for k, v in o.items()]
    lines += ["failed LLM tries (stage, template, outcome, reason):"] if tries else []
    lines += [f"  {t['stage']}\t{t['template']}\t{t['outcome']}\t{t['reason']}\t{t['tries']}" for t in tries]
    lines += [
        _rate_text("pass rate (all rules)", q["pass_rate"]),
        f"unjudged samples: {q['unjudged_samples']}",
    ]
    lines += [_rate_text(f"  kind {k}", r) for k, r in q["by_kind"].items()]
    lines += [_rate_text(f"  category {k}", r) for k, r in q["by_category"].items()]
    return "\n".join(lines)


@command("stats", "counts, and pass rates with 95% CIs")(_stats_args)
def _stats(args, store):
    from rnr_core.stats import quality

    overview = store.overview()
    overview["quality"] = quality(store.samples_with_verdicts(args.run, args.dataset))
    _emit(args, overview, _stats_text)


def _judge_args(p):
    scope = p.add_mutually_exclusive_group(required=True)
    scope.add_argument("--run", help="judge this run's samples")
    scope.add_argument("--dataset", help="judge the samples generated from this dataset")
    p.add_argument("--judge", help=f"LLM judge for free-form rules (default {settings.DEFAULT_MODEL})")
    p.add_argument("--checkers-only", action="store_true", help="only run the code checkers")
    p.add_argument("--max-retries", type=_count, default=2, help="retries for an unparsable judge reply")
    _timeout_arg(p)


@command("judge", "give every rule of every sample a verdict")(_judge_args)
def _judge(args, store):
    from rnr_core.judge import judge_samples

    judge = None if args.checkers_only else (args.judge or settings.DEFAULT_MODEL)
    with _progress("judging") as update:
        summary = _run_async(judge_samples(store, args.run, args.dataset, judge, args.max_retries, update))
    _emit(args, summary, lambda s: "\n".join(f"{k}: {v}" for k, v in s.items()))


def _export_args(p):
    from rnr_core.export import FORMATS
    from rnr_core.store import SAMPLE_STATUSES

    p.add_argument("--out", required=True, help="directory for train.jsonl, test.jsonl, manifest.json")
    p.add_argument("--format", choices=list(FORMATS), default="messages")
    p.add_argument("--status", nargs="+", choices=SAMPLE_STATUSES, default=["pending", "accepted"])
    p.add_argument(
        "--include-failing",
        action="store_true",
        help="also export samples with a failed or not yet judged rule (default: only samples that "
        "passed every verdict)",
    )
    p.add_argument("--test-fraction", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--run", help="only this run's samples")
    p.add_argument("--dataset", help="only samples generated from this dataset")
    p.add_argument(
        "--category",
        action="append",
        help="only samples with a rule of this category (repeat for several; any of them matches)",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the files of an earlier export in --out (default: refuse, and say what is there)",
    )


@command("export", "write curated samples as train/test JSONL")(_export_args)
def _export(args, store):
    from rnr_core.export import export_samples

    with _progress("exporting") as update:
        manifest = export_samples(
            store,
            args.out,
            args.format,
            args.status,
            args.test_fraction,
            args.seed,
            args.run,
            args.include_failing,
            args.dataset,
            args.category,
            overwrite=args.overwrite,
            progress=update,
        )

    def summary(m: dict) -> str:
        text = f"wrote {m['counts']['train']} train and {m['counts']['test']} test samples to {m['out']}"
        left = m["excluded"]
        if any(left.values()):
            text += (
                f"; left out {left['failing']} with a failed rule and {left['unjudged']} not fully judged"
                " (--include-failing exports them)"
            )
        return text + (f"\nwarning: {m['split_warning']}" if m["split_warning"] else "")

    _emit(args, manifest, summary)


@command("models", "list the model spec forms")(lambda p: None)
def _models(args, store):
    from rnr_core.models.registry import valid_forms

    _emit(args, valid_forms(), lambda forms: "\n".join(forms))


@command("config", "check the operator's configuration file (RNR_CONFIG, else RNR_HOME/config.toml)")(
    lambda p: p.add_argument("action", choices=["check"], help="load the file, refuse a bad entry, show it")
)
def _config(args, store):
    from rnr_core import access

    _emit(args, access.describe(access.reload()), access.describe_text)


# ---- tasks -------------------------------------------------------------------------------


def _tasks_args(p):
    from rnr_core.review import TASKS

    p.add_argument("task", nargs="?", choices=list(TASKS), help="the task to set")
    p.add_argument("--labels-per-item", type=int, metavar="N", help="how many people must label each item")
    p.add_argument("--by", type=_name, help="who sets it (default: the OS user)")


@command("tasks", "show or set how many people label each item of the review and the audit")(_tasks_args)
def _tasks(args, store):
    from rnr_core.review import TASKS

    if args.labels_per_item is not None:
        if args.task is None:
            raise SettingError("Name the task to set: rnr tasks review --labels-per-item N (or audit).")
        store.set_labels_per_item(args.task, args.labels_per_item, args.by or acting_user("--by"))
    shown = {task: store.labels_per_item(task) for task in TASKS}
    _emit(args, shown, lambda t: "\n".join(f"{task}\t{n} per item" for task, n in t.items()))


# ---- ifeval ------------------------------------------------------------------------------


def _ifeval_args(p):
    p.add_argument(
        "--input", required=True, help="IFEval input_data.jsonl (prompt, instruction_id_list, kwargs)"
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--responses", help="JSONL of {prompt, response}, one per input prompt")
    source.add_argument("--model", help="answer the prompts with this model spec first")
    p.add_argument("--out", required=True, help="directory for eval_results_strict/loose.jsonl")
    p.add_argument("--limit", type=_count, help="with --model: only the first N prompts")
    p.add_argument("--max-tokens", type=_count, default=1024, help="with --model: response length limit")
    _timeout_arg(p)


def _accuracy_text(summary: dict) -> str:
    lines = [f"{summary['prompts']} prompts, {summary['instructions']} instructions"]
    for mode in ("strict", "loose"):
        acc = summary[mode]
        lines.append(
            f"{mode:6}  prompt-level {acc['prompt_level']:.4f}  "
            f"instruction-level {acc['instruction_level']:.4f}"
        )
    return "\n".join(lines + [f"wrote {f}" for f in summary["files"]])


@command("ifeval", "score responses on IFEval prompts, strict and loose")(_ifeval_args)
def _ifeval(args, store):
    from rnr_core.ifeval.run import run_ifeval

    def score(store):
        with _progress("answering", shown=bool(args.model)) as update:
            return _run_async(
                run_ifeval(
                    store,
                    args.input,
                    args.out,
                    args.responses,
                    args.model,
                    args.limit,
                    args.max_tokens,
                    update,
                )
            )

    if args.model:  # answers go through the store's call cache, so a rerun pays only for the rest
        with _open_store(args) as store:
            summary = score(store)
    else:
        summary = score(None)
    _emit(args, summary, _accuracy_text)


NO_STORE = {"models", "ifeval", "config"}


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
    for name, (help_text, configure, _) in COMMANDS.items():
        # argparse %-formats help strings, so a literal % must be doubled there.
        child = sub.add_parser(name, help=help_text.replace("%", "%%"), description=help_text)
        if name != "samples":
            _add_common(child)
        configure(child)
    return parser


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


if __name__ == "__main__":
    sys.exit(main())
