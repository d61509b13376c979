"""Agreement of each machine judge with human labels, and of people with each other (the judge's
ceiling), overall and per rule category, and its words."""

from rnr_core.stats import KAPPA_FLOOR, MIN_LABELS, agreement, human_agreement

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


def agreement_rows(groups: dict, ceiling: dict | None = None) -> list[dict]:
    """Table rows of agreements keyed by judge or (judge, category): rounded, never None. With `ceiling`
    (people's agreement per category, None for all), each row shows it beside the judge's kappa."""
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
            }
            | ({CEILING: _ceiling_value(ceiling.get(category))} if ceiling is not None else {})
            | {"Trust": trust(r)}
        )
    return rows


# --- people with each other ------------------------------------------------------------------------

CEILING = "People agree (ceiling)"


def human_agreement_report(store, seed: int = 0, n_boot: int = 1000) -> dict:
    """{"overall": agreement, "by_category": {category: agreement}} of people with each other, over the
    rules two or more people labelled (an adjudicator's ruling is not an independent label: left out)."""
    items: dict[tuple, dict] = {}
    category: dict[tuple, str] = {}
    for row in store.people_labels():
        if row["judge"].startswith("human:"):
            key = (row["sample_id"], row["rule_id"])
            items.setdefault(key, {})[row["judge"]] = row["verdict"]
            category[key] = row["category"]
    grouped: dict[str, list[dict]] = {}
    for key, labels in items.items():
        grouped.setdefault(category[key], []).append(labels)
    return {
        "overall": human_agreement(list(items.values()), seed=seed, n_boot=n_boot),
        "by_category": {
            c: human_agreement(labels, seed=seed, n_boot=n_boot) for c, labels in sorted(grouped.items())
        },
    }


def _ceiling_value(result: dict | None) -> str:
    """People's agreement as a judge's ceiling: the number where it can be told, else MISSING."""
    return number(result["value"]) if result and result["enough"] else MISSING


def people_words(result: dict) -> str:
    """What people's agreement says, in words, with the reason where it says nothing."""
    if not result["enough"]:
        n = result["n_items"]
        return f"too few items labelled by two or more people to tell ({n} of the {MIN_LABELS} needed)"
    if result["value"] is None:
        return "cannot tell: people gave one and the same label throughout"
    return f"{result['statistic']}: the most a judge can be expected to reach here"


def human_rows(report: dict) -> list[dict]:
    """Table rows of people's agreement, overall then per category: rounded, never None."""
    groups = {"all categories": report["overall"], **report["by_category"]}
    return [
        {
            "Category": category,
            "Items": r["n_items"],
            "People": r["n_raters"],
            "Measure": r["statistic"] or MISSING,
            "Agreement": number(r["value"]),
            "95% CI": interval(r["ci95"]),
            "Reading": people_words(r),
        }
        for category, r in groups.items()
    ]
