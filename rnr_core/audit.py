"""Agreement of each machine judge with human labels, overall and per rule category."""

from rnr_core.stats import agreement


def agreement_report(store, seed: int = 0, n_boot: int = 1000) -> dict:
    """{"by_judge": {judge: agreement}, "by_category": {judge: {category: agreement}}}; an agreement
    whose kappa is under KAPPA_FLOOR has trustworthy False: the judge is not to be trusted there."""
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
