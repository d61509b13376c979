"""Plain-text tables and the cells the evaluation commands put in them."""

UNTRUSTED_MARK = "*"
UNCALIBRATED_MARK = "?"


def table(header: list[str], rows: list[list[str]], indent: str = "") -> str:
    """Columns padded to their widest cell, two spaces apart; no trailing blanks."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows]]
    return "\n".join(indent + line for line in lines)


def share(r: dict | None, with_n: bool = False) -> str:
    """A rate with its 95% CI, e.g. `0.62 [0.55, 0.69]`; `-` where nothing was counted."""
    if not r or r.get("rate") is None:
        return "-"
    text = f"{number(r['rate'])} {interval(r['ci95'])}"
    return f"{text} (n={r['n']})" if with_n else text


def number(value, digits: int = 2, signed: bool = False) -> str:
    """A float rounded for a table; `-` for None."""
    if value is None:
        return "-"
    if round(value, digits) == 0:
        value = 0.0  # a tiny negative would print as -0.00
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def interval(ci, digits: int = 2) -> str:
    return "-" if not ci else f"[{number(ci[0], digits)}, {number(ci[1], digits)}]"


def p_value(p: float | None) -> str:
    if p is None:
        return "-"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def calibration_lines(cal: dict | None, judge: str | None = None) -> list[str]:
    """How far an LLM judge agrees with the checkers, overall and per category, then any warning."""
    if not cal:
        return []
    who = judge or cal.get("judge") or "the LLM judge"
    overall = cal["overall"]
    if not overall["n"]:
        return [f"calibration of {who}: no verifiable rule judged by both it and a checker yet"]
    rows = [
        [category, str(a["n"]), number(a["accuracy"]), interval(a.get("accuracy_ci95"))]
        + [number(a["kappa"]), interval(a["kappa_ci95"])]
        for category, a in [("all", overall), *cal["by_category"].items()]
    ]
    header = ["category", "n", "accuracy", "accuracy 95% CI", "kappa", "kappa 95% CI"]
    lines = [
        f"calibration of {who} against the checkers (verifiable rules):",
        table(header, rows, "  "),
    ]
    if cal.get("skipped"):
        lines.append(f"  ({cal['skipped']} verdicts left out: the judge's reply never parsed)")
    if cal.get("warning"):
        lines.append(f"warning: {cal['warning']}")
    from rnr_core.stats import KAPPA_FLOOR, MIN_LABELS  # numpy: kept off the CLI's start

    if cal.get("untrusted_categories"):
        names = ", ".join(cal["untrusted_categories"])
        lines.append(
            f"warning: kappa below {KAPPA_FLOOR} in {names}: don't trust this judge on free-form rules "
            "of those categories"
        )
    elif cal.get("trusted") is None:
        lines.append(
            f"note: too few verifiable rules judged by both (fewer than {MIN_LABELS}, or one verdict "
            "throughout) to tell whether to trust this judge"
        )
    return lines
