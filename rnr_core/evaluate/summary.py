"""What the Compare page shows of one benchmark: each model's latest evaluation, the paired differences,
the judge warnings, the leaderboard, and the stored answers two models gave to the same items."""

from rnr_core.evaluate.benchmark import load
from rnr_core.evaluate.compare import leaderboard
from rnr_core.evaluate.report import differences, eval_report, evals, item_outcomes


def latest_evals(store, benchmark: str) -> dict[str, dict]:
    """Each evaluated model's newest evaluation of `benchmark`."""
    latest: dict[str, dict] = {}
    for row in evals(store, benchmark):  # newest first
        latest.setdefault(row["model"], row)
    return latest


def benchmark_summary(store, benchmark: str) -> dict:
    """{models, reports: {model: eval_report}, differences, warnings, leaderboard} for `benchmark`."""
    items = load(store, benchmark)["items"]
    reports = {model: eval_report(store, benchmark, model) for model in latest_evals(store, benchmark)}
    outcomes = {m: item_outcomes(store, r["eval_id"], items, r["judge"]) for m, r in reports.items()}
    return {
        "models": list(reports),
        "reports": reports,
        "differences": differences(outcomes),
        "warnings": judge_warnings(reports),
        "leaderboard": leaderboard(store, benchmark),
    }


def judge_warnings(reports: dict[str, dict]) -> list[str]:
    """One line per untrusted judge, and one per model whose pass rate rests on that judge."""
    lines = []
    for judge, cal in {r["judge"]: r["calibration"] for r in reports.values() if r["calibration"]}.items():
        if cal["warning"]:
            kappa = cal["overall"]["kappa"]
            said = "undefined" if kappa is None else f"{kappa:.2f}"
            lines.append(f"{judge}: kappa {said} against the checkers. {cal['warning']}")
    for model, r in reports.items():
        if r["rests_on_untrusted_judge"]:
            lines.append(
                f"The pass rate of {model} rests on that judge's free-form verdicts; its pass rate on "
                "checkable rules alone needs no judge."
            )
    return lines


def answer_pairs(store, benchmark: str, model_a: str, model_b: str) -> list[dict]:
    """The benchmark's items both models answered (latest evaluations), each with both answers."""
    bench = load(store, benchmark)
    answers = []
    for model in (model_a, model_b):
        row = store.latest_eval(bench["id"], model)
        answers.append(store.eval_responses(row["id"]) if row else {})
    done = [{k for k, r in a.items() if r["status"] == "done"} for a in answers]
    return [
        {**it, "response_a": answers[0][k]["response"], "response_b": answers[1][k]["response"]}
        for it in bench["items"]
        if (k := it["item_key"]) in done[0] and k in done[1]
    ]
