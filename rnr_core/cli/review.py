"""Review commands: samples, tasks, export."""

import argparse

from rnr_core import cli  # who acts is read through the package, where a test may patch it
from rnr_core.cli import _add_common, _count, _emit, _missing, _progress, command
from rnr_core.cli.splitargs import split_args
from rnr_core.errors import SettingError


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

    reviewer = args.reviewer or cli.acting_user("--reviewer")
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


def _threshold(text: str) -> float:
    """argparse type for a cosine similarity above 0 and at most 1."""
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{value:g} is not a cosine similarity above 0 and at most 1")
    return value


def _export_args(p):
    from rnr_core.export import FORMATS, LEAKAGE_ACTIONS
    from rnr_core.store import SAMPLE_STATUSES

    p.add_argument(
        "--out", required=True, help="directory for the split files, README.md (dataset card), manifest.json"
    )
    p.add_argument(
        "--format",
        choices=list(FORMATS),
        default="messages",
        help="; ".join(f"{name}: {f.about}" for name, f in FORMATS.items()) + " (default: messages)",
    )
    p.add_argument(
        "--status",
        nargs="+",
        choices=SAMPLE_STATUSES,
        default=["pending", "accepted"],
        help="review statuses to export (default: pending accepted)",
    )
    p.add_argument(
        "--include-failing",
        action="store_true",
        help="also export samples with a failed or not yet judged rule (default: only samples that "
        "passed every verdict)",
    )
    split_args(p)
    p.add_argument("--seed", type=int, default=0, help="seed of the split placement (default 0)")
    p.add_argument("--run", help="only this run's samples")
    p.add_argument("--dataset", help="only samples generated from this dataset")
    p.add_argument(
        "--category",
        action="append",
        help="only samples with a rule of this category (repeat for several; any of them matches)",
    )
    leak = p.add_mutually_exclusive_group()
    leak.add_argument(
        "--leakage-threshold",
        type=_threshold,
        default=0.9,
        metavar="F",
        help="cosine similarity from which instructions in two splits count as near duplicates (default 0.9)",
    )
    leak.add_argument(
        "--no-leakage-check",
        dest="leakage_threshold",
        action="store_const",
        const=None,
        help="skip the near-duplicate check across splits (it embeds every new instruction once)",
    )
    p.add_argument(
        "--leakage-action",
        choices=LEAKAGE_ACTIONS,
        default="report",
        help="what to do with near duplicates: report them, move the held-out system prompt into train, "
        "or drop the held-out samples (default: report)",
    )
    p.add_argument(
        "--negatives",
        action="store_true",
        help="also write negatives.jsonl: the rejected samples with their reasons, for preference training",
    )
    p.add_argument("--language", default="en", help="the data's language for the dataset card (default: en)")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the files of an earlier export in --out (default: refuse, and say what is there)",
    )


@command("export", "write curated samples as split files with a dataset card")(_export_args)
def _export(args, store):
    from rnr_core.export import export_samples

    with _progress("embedding new instructions") as embedded, _progress("exporting") as update:
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
            ratios=args.ratios,
            stratify=args.stratify,
            leakage_threshold=args.leakage_threshold,
            leakage_action=args.leakage_action,
            negatives=args.negatives,
            language=args.language,
            embedding_progress=embedded,
        )
    _emit(args, manifest, _export_text)


def _export_text(m: dict) -> str:
    """What was written, what was left out, and what the leakage check found."""
    from rnr_core.review import plural

    counts = ", ".join(f"{n} {split}" for split, n in m["counts"].items())
    text = f"wrote {counts} samples to {m['out']}"
    left = m["excluded"]
    if any(left.values()):
        text += (
            f"; left out {left['failing']} with a failed rule and {left['unjudged']} not fully judged"
            " (--include-failing exports them)"
        )
    if m["negatives"]:
        text += f"; {plural(m['negatives']['count'], 'rejected sample')} in negatives.jsonl"
    leak = m["leakage"]
    if leak["checked"] and leak["texts"]:
        text += (
            f"\nleakage: {plural(leak['texts'], 'held-out instruction')} "
            f"({plural(leak['samples'], 'sample')}) near-duplicate an earlier split "
            f"(cosine >= {leak['threshold']:g})"
        )
        text += {
            "report": "; --leakage-action move or drop fixes that",
            "move": f"; moved {plural(leak.get('moved_groups', 0), 'system prompt')} into train",
            "drop": f"; dropped {plural(leak.get('dropped_samples', 0), 'held-out sample')}",
        }[leak["action"]]
    return text + (f"\nwarning: {m['split_warning']}" if m["split_warning"] else "")


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
        store.set_labels_per_item(args.task, args.labels_per_item, args.by or cli.acting_user("--by"))
    shown = {task: store.labels_per_item(task) for task in TASKS}
    _emit(args, shown, lambda t: "\n".join(f"{task}\t{n} per item" for task, n in t.items()))
