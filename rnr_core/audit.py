"""Agreement of each machine judge with human labels, overall and per rule category, and its words."""

from rnr_core.stats import KAPPA_FLOOR, MIN_LABELS, agreement

MISSING = "—"  # what a table shows where a number does not exist


def agreement_report(store, seed: int = 0, n_boot: int = 1000) -> dict:
    """{"by_judge": {judge: agreement}, "by_category": {judge: {category: agreement}}}; an agreement
    from MIN_LABELS pairs or more whose kappa is under KAPPA_FLOOR has trustworthy False."""
    overall: dict[str, tuple[list, list]] = {}
    per_category: dict[str, dict[str, tuple[list, list]]] = {}
    for p in store.audit_pairs():
        for human, machine in (
            overall.setdefault(p["judge"], ([], [])),
            per_category.setdefault(p["judge"], {}).setdefault(p["category"], ([], [])),
        ):
            human.append(p["human"])
            machine.append(p["machine"])
    return {
        "by_judge": {
            j: agreement(*labels, seed=seed, n_boot=n_boot) for j, labels in sorted(overall.items())
        },
        "by_category": {
            j: {c: agreement(*labels, seed=seed, n_boot=n_boot) for c, labels in sorted(cats.items())}
            for j, cats in sorted(per_category.items())
        },
    }


def number(value: float | None, digits: int = 2) -> str:
    """A rounded number with a true minus sign; MISSING when there is none."""
    if value is None:
        return MISSING
    return f"{round(value, digits) + 0.0:.{digits}f}".replace("-", "−")  # + 0.0: no "−0.00"


def interval(ci: list[float] | None) -> str:
    """A 95% interval as "[low, high]"; MISSING when there is none."""
    return MISSING if not ci else f"[{number(ci[0])}, {number(ci[1])}]"


def trust(result: dict) -> str:
    """Whether a judge can be trusted, in words, with the reason; one rule for every row."""
    if result["n"] < MIN_LABELS:
        return f"too few labels to tell ({result['n']} of the {MIN_LABELS} needed)"
    if result["kappa"] is None:
        return "cannot tell: human and judge gave one and the same label throughout"
    if result["trustworthy"]:
        return f"trustworthy (kappa ≥ {KAPPA_FLOOR})"
    return f"not trustworthy (kappa < {KAPPA_FLOOR})"


def agreement_rows(groups: dict) -> list[dict]:
    """Table rows of agreements keyed by judge or (judge, category): rounded, never None."""
    rows = []
    for key, r in groups.items():
        judge, category = key if isinstance(key, tuple) else (key, None)
        row = {"Judge": judge} | ({"Category": category} if category is not None else {})
        rows.append(
            row
            | {
                "Labels": r["n"],
                "Accuracy": MISSING if r["accuracy"] is None else f"{r['accuracy']:.0%}",
                "Kappa": number(r["kappa"]),
                "Kappa 95% CI": interval(r["kappa_ci95"]),
                "Trust": trust(r),
            }
        )
    return rows
