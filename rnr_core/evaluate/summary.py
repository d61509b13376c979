"""What the Compare page shows of one benchmark: each model's latest evaluation, the paired differences,
the judge warnings, the leaderboard, and the stored answers two models gave to the same items."""

from rnr_core.evaluate.benchmark import load
from rnr_core.evaluate.compare import leaderboard
from rnr_core.evaluate.report import differences, evals, report_with_outcomes
from rnr_core.evaluate.words import kappa
from rnr_core.models.names import shown, team_names


def latest_models(store, benchmark: str) -> list[str]:
    """The models evaluated on `benchmark`, most recently evaluated first."""
    return list(dict.fromkeys(row["model"] for row in evals(store, benchmark)))


def benchmark_summary(store, benchmark: str) -> dict:
    """{models, reports: {model: report}, differences, warnings, leaderboard, names} for `benchmark`;
    each model's verdicts are read once (report and item outcomes together). `names` maps every spec
    the summary holds to the name the page shows."""
    bench = load(store, benchmark)
    reports, outcomes = {}, {}
    for model in latest_models(store, benchmark):
        row = store.latest_eval(bench["id"], model)  # the evaluation eval_report reads
        reports[model], outcomes[model] = report_with_outcomes(
            store, bench, row["id"], bench["items"], row["judge"]
        )
    board = leaderboard(store, benchmark)
    team = team_names()
    specs = {*reports, *board["models"]}
    return {
        "models": list(reports),
        "reports": reports,
        "differences": differences(outcomes),
        "warnings": [shown(line, team) for line in judge_warnings(reports)],
        "leaderboard": board,
        "names": {spec: shown(spec, team) for spec in specs},
    }


def judge_warnings(reports: dict[str, dict]) -> list[str]:
    """Per model, a line when the judge of its evaluation is untrusted on that model's answers (the same
    judge can be trusted on one model's answers and not on another's), or not checked against code at
    all while the pass rate rests on it; each line names the judge."""
    lines = []
    for model, r in reports.items():
        cal = r.get("calibration") or {}
        categories = cal.get("untrusted_categories") or []
        if cal.get("warning") or categories:
            line = f"{r['judge']} on {model}'s answers: kappa {kappa(cal['overall'])} against the checkers."
            line += f" {cal['warning']}" if cal.get("warning") else ""
            line += f" Untrusted on: {', '.join(categories)}." if categories else ""
            if r.get("rests_on_untrusted_judge"):
                line += f" The pass rate of {model} rests on this judge's free-form verdicts; its pass rate "
                line += "on checkable rules alone needs no judge."
            lines.append(line)
        elif r.get("rests_on_uncalibrated_judge"):
            lines.append(
                f"The pass rate of {model} rests on free-form verdicts of {r['judge']}, which saw too few "
                "checkable rules to be checked against code: calibrate it, or read the checkable-only rate."
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
