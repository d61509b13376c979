"""How `rnr eval` and `rnr compare` print their results: aligned tables, rates with 95% CIs."""

from rnr_core.cli.tables import (
    UNCALIBRATED_MARK,
    UNTRUSTED_MARK,
    calibration_lines,
    interval,
    number,
    p_value,
    share,
    table,
)

RAW_SHOWN = 300  # characters of a failed answer's raw output shown


def eval_text(result: dict) -> str:
    """An evaluation's reports as tables: one row per model, then kinds, categories, differences."""
    reports = result["reports"]
    if not reports:
        return f"benchmark {result['benchmark']}: no models evaluated"
    first = next(iter(reports.values()))
    judge = first["judge"] or "none (checkers only)"
    blocks = [
        f"benchmark {result['benchmark']}: {first['items']} items, LLM judge {judge}",
        _headline(reports),
        _ifeval_block(reports),
        _group_block(reports, "by_kind", "rule kind"),
        _group_block(reports, "by_category", "category"),
        *("\n".join(calibration_lines(r["calibration"], f"{r['judge']} on {m}")) for m, r in reports.items()),
        _differences_block(result["differences"]),
        *(_failures_block(m, r) for m, r in reports.items()),
        *(_judge_failures_block(m, r) for m, r in reports.items()),
    ]
    return "\n\n".join(b for b in blocks if b)


def _headline(reports: dict) -> str:
    rows = []
    for model, r in reports.items():
        mark = f" {UNTRUSTED_MARK}" if r["rests_on_untrusted_judge"] else ""
        mark += f" {UNCALIBRATED_MARK}" if r.get("rests_on_uncalibrated_judge") else ""
        counts = [str(r["answered"]), str(r["failed"]), str(r["unjudged"]), str(r["pending"])]
        status = r["status"] if r["status"] != "completed" else ""
        rows.append([model, share(r["pass_rate"], True) + mark, share(r["verifiable_pass_rate"], True)])
        rows[-1] += [*counts, status]
    header = ["model", "pass rate (all rules)", "verifiable rules only", "answered", "failed (excluded)"]
    text = table([*header, "unjudged", "pending", ""], rows)
    if any(r["rests_on_untrusted_judge"] for r in reports.values()):
        text += (
            f"\n{UNTRUSTED_MARK} pass rate rests on an untrusted judge's free-form verdicts "
            "(see its calibration below); the verifiable-only rate needs no judge"
        )
    if any(r.get("rests_on_uncalibrated_judge") for r in reports.values()):
        text += (
            f"\n{UNCALIBRATED_MARK} pass rate rests on the free-form verdicts of a judge not yet calibrated "
            "(too few checkable rules to measure it against the checkers); the verifiable-only rate needs "
            "no judge"
        )
    for model, r in reports.items():
        if r.get("fails_checked_rule_unjudged"):
            text += (
                f"\n{model}: {r['fails_checked_rule_unjudged']} of the unjudged items already break a "
                "checked rule (the pass rate counts only items with a verdict on every rule)"
            )
    return text


def _ifeval_block(reports: dict) -> str:
    """IFEval's strict and loose accuracy, where the benchmark has IFEval-kind rules."""
    if not any(r["ifeval"]["strict"]["prompt_level"]["n"] for r in reports.values()):
        return ""
    rows = [
        [model, mode, share(r["ifeval"][mode]["prompt_level"]), share(r["ifeval"][mode]["instruction_level"])]
        for model, r in reports.items()
        for mode in ("strict", "loose")
    ]
    return "IFEval-kind rules (checkers):\n" + table(
        ["model", "mode", "prompt-level", "instruction-level"], rows, "  "
    )


def _group_block(reports: dict, field: str, label: str) -> str:
    """Share of rules followed per kind or category: a row per group, a column per model."""
    groups = sorted({g for r in reports.values() for g in r[field]})
    if not groups:
        return ""
    rows = [[g, *(share(r[field].get(g), True) for r in reports.values())] for g in groups]
    return f"rules followed per {label}:\n" + table([label, *reports], rows, "  ")


def _differences_block(differences: list[dict]) -> str:
    if not differences:
        return ""
    rows = [
        [d["model_a"], d["model_b"], number(d["diff"], signed=True), interval(d["ci95"])]
        + [p_value(d["mcnemar_p"]), str(d["n"]), str(d["a_only"]), str(d["b_only"])]
        for d in differences
    ]
    header = ["model a", "model b", "a - b", "95% CI", "McNemar p", "items", "a only", "b only"]
    return "paired difference in pass rate (items both have a verdict on):\n" + table(header, rows, "  ")


def _failures_block(model: str, report: dict) -> str:
    """The failed answers: why, with the model's raw output, so they can be fixed and rerun."""
    if not report["failed"]:
        return ""
    lines = [f"{model}: {report['failed']} failed items, excluded from the rates (a rerun retries them):"]
    for f in report["failures"]:
        lines.append(f"  {f['item_key']}: {f['error']} ({f['attempts']} attempts)")
        raw = f["raw_output"]
        if raw:
            clipped = raw if len(raw) <= RAW_SHOWN else f"{raw[:RAW_SHOWN]}… ({len(raw)} characters)"
            lines.append("    raw output: " + clipped.replace("\n", "\n    "))
    if report["failed"] > len(report["failures"]):
        lines.append(f"  … and {report['failed'] - len(report['failures'])} more ('--json' lists the first)")
    return "\n".join(lines)


def _judge_failures_block(model: str, report: dict) -> str:
    """Answers the judge gave no usable reply on: left unjudged, with the error and its raw reply."""
    if not report.get("judge_failures"):
        return ""
    lines = [
        f"{model}: the judge gave no usable reply on {report['judge_failures']} answers, left unjudged "
        "(a rerun asks it again):"
    ]
    for f in report["judge_errors"]:
        lines.append(f"  {f['item_key']}: {f['error']}")
        if f["raw_output"]:
            raw = f["raw_output"]
            clipped = raw if len(raw) <= RAW_SHOWN else f"{raw[:RAW_SHOWN]}… ({len(raw)} characters)"
            lines.append("    raw output: " + clipped.replace("\n", "\n    "))
    return "\n".join(lines)


def compare_text(board: dict) -> str:
    """The leaderboard: Bradley-Terry ratings, win rates, head to head, judge-human agreement."""
    votes = board["votes"]
    lines = [
        f"benchmark {board['benchmark']}: {votes['total']} votes ({votes['llm']} by LLM judges, "
        f"{votes['human']} by people); {board['failed_votes']} failed judge votes, not counted"
    ]
    run = board.get("run")
    if run:
        lines.append(
            f"this run: judge {run['judge']} gave {run['votes']} votes, {run['failed_votes']} failed "
            f"(a rerun retries them), {run['already_done']} were already done, "
            f"{run['skipped_items']} items skipped (a model has no answer)"
        )
    if not board["bradley_terry"]:
        return "\n".join(lines + ["No votes yet."])
    blocks = ["\n".join(lines), _bt_block(board["bradley_terry"]), _win_block(board["win_rates"])]
    blocks += [_head_to_head_block(board["head_to_head"]), _judge_human_block(board["judge_human"])]
    return "\n\n".join(b for b in blocks if b)


def _bt_block(rows: list[dict]) -> str:
    cells = [
        [str(r["rank"]), r["model"], number(r["rating"], 0), interval(r["ci95"], 0), str(r["n"])]
        for r in rows
    ]
    text = "Bradley-Terry leaderboard (Elo-like scale, mean 1000):\n"
    text += table(["rank", "model", "rating", "95% CI", "votes"], cells, "  ")
    if len({r["group"] for r in rows}) > 1:
        text += "\n  note: some models never met, directly or through others; compare ratings within a group"
    return text


def _win_block(rates: dict) -> str:
    cells = [
        [m, str(r["wins"]), str(r["losses"]), str(r["ties"]), str(r["n"]), share(r)] for m, r in rates.items()
    ]
    return "win rates (a tie or both bad counts half):\n" + table(
        ["model", "wins", "losses", "ties", "votes", "win rate"], cells, "  "
    )


def _head_to_head_block(rows: list[dict]) -> str:
    if len(rows) < 2:
        return ""  # one pair: the win rates above say it all
    cells = [
        [r["model_a"], r["model_b"], str(r["a_wins"]), str(r["b_wins"]), str(r["ties"]), str(r["n"])]
        + [share({"rate": r["a_rate"], "ci95": r["ci95"], "n": r["n"]})]
        for r in rows
    ]
    header = ["model a", "model b", "a wins", "b wins", "ties", "votes", "a's win rate"]
    return "head to head:\n" + table(header, cells, "  ")


def _judge_human_block(agreement: dict) -> str:
    if not agreement:
        return ""
    cells = [
        [judge, str(a["n"]), number(a["accuracy"]), number(a["kappa"]), interval(a["kappa_ci95"])]
        for judge, a in agreement.items()
    ]
    return "LLM judges against people's votes on the same pairs:\n" + table(
        ["judge", "pairs", "accuracy", "kappa", "kappa 95% CI"], cells, "  "
    )
