"""Agreement of each machine judge with human labels, overall and per rule category."""

from rnr_core.stats import agreement


def agreement_report(store, seed: int = 0, n_boot: int = 1000) -> dict:
    """{"by_judge": {judge: agreement}, "by_category": {judge: {category: agreement}}}; an agreement
    whose kappa is under KAPPA_FLOOR has trustworthy False: the judge is not to be trusted there."""
    groups: dict[str, dict[str, tuple[list, list]]] = {}
    for p in store.audit_pairs():
        for key in (None, p["category"]):
            human, machine = groups.setdefault(p["judge"], {}).setdefault(key, ([], []))
            human.append(p["human"])
            machine.append(p["machine"])
    report: dict = {"by_judge": {}, "by_category": {}}
    for judge, by_key in sorted(groups.items()):
        report["by_judge"][judge] = agreement(*by_key.pop(None), seed=seed, n_boot=n_boot)
        report["by_category"][judge] = {
            category: agreement(*labels, seed=seed, n_boot=n_boot)
            for category, labels in sorted(by_key.items())
        }
    return report
