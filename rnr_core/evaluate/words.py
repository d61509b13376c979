"""How kappa and intervals read on the page and in warnings: one wording, everywhere."""


def kappa(result: dict | None) -> str:
    """A Cohen's kappa to two places, or 'undefined' (one class only, or nothing to compare)."""
    value = (result or {}).get("kappa")
    return "undefined" if value is None else f"{value:.2f}"


def interval(ci, signed: bool = False, percent: bool = False) -> str:
    """A 95% interval as 'low to high' ('+' signs for differences, % for rates), or a dash when none."""
    if not ci:
        return "–"
    form = "{:.0%}" if percent else "{:+.3f}" if signed else "{:.2f}"
    return f"{form.format(ci[0])} to {form.format(ci[1])}"
