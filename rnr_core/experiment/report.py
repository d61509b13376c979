"""The experiment's report: Markdown (report.md) and a plotly chart (chart.html, chart.json)."""

from pathlib import Path

LABELS = {"base": "base", "tuned": "fine-tuned on rules", "control": "control (unedited answers, no rules)"}
SECTIONS = (
    "## Targets",
    "## Configuration",
    "## Data",
    "## Training",
    "## Held-out benchmark",
    "## Pass rate",
    "## Paired differences",
    "## Per rule kind",
    "## Answer length",
    "## Bleed into rule-free prompts",
    "## IFEval",
    "## Wall time per step",
)


def _pct(value) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _ci(r: dict | None) -> str:
    if not r or r.get("rate") is None:
        return "–"
    ci = r.get("ci95")
    span = f" [{_pct(ci[0])}, {_pct(ci[1])}]" if ci else ""
    return f"{_pct(r['rate'])}{span} (n={r['n']})"


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
        *("| " + " | ".join(r) + " |" for r in rows),
    ]


def _config(f: dict) -> list[str]:
    lines = ["```toml"]
    for section, values in f["config"].items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {_toml(v)}" for k, v in values.items()]
    return [*lines, "```"]


def _toml(v) -> str:
    import json

    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {_toml(x)}" for k, x in v.items()) + "}"
    return json.dumps(v)


def _data(f: dict) -> list[str]:
    d = f["data"]
    lines = [
        f"Source `{d['source']}`: {d['rows']} training rows kept of {d['tried']} tried "
        "(every kept row passes all its rules' checkers), "
        f"{d.get('plain', 0)} of them with a role and no rules. The control trains on the same rows' "
        "original answers with the role alone as system prompt.",
        "",
    ]
    return lines + _table(
        ["rule kind", "training rules"], [[k, str(n)] for k, n in sorted(d["by_kind"].items())]
    )


def _bench(f: dict) -> list[str]:
    b = f["benchmark"]
    leaks = ", ".join(f"{k} {v}" for k, v in b["leaks"].items())
    return [
        f"Benchmark `{b['benchmark']}`: {b['items']} held-out system prompts, each with a held-out "
        "instruction, role, rule wording and (for end phrases and keywords) setting; shared with "
        f"training: {leaks}. Rule-free prompts: `{b['bleed']}` ({b['bleed_items']} items).",
    ]


def _models(f: dict) -> list[str]:
    rows = [[LABELS[k], f"`{f['specs'][k]}`", _ci(e["pass_rate"])] for k, e in f["evals"].items()]
    return _table(["model", "spec", "pass rate (all rules followed) [95% CI]"], rows)


def _differences(f: dict) -> list[str]:
    rows = []
    for d in f["differences"]:
        ci = d["ci95"]
        rows.append(
            [
                f"{d['model_a']} − {d['model_b']}",
                "–" if d["diff"] is None else f"{100 * d['diff']:+.1f} pts",
                f"[{100 * ci[0]:+.1f}, {100 * ci[1]:+.1f}]" if ci else "–",
                "–" if d["mcnemar_p"] is None else f"{d['mcnemar_p']:.2g}",
                f"{d['a_only']} / {d['b_only']} of {d['n']}",
            ]
        )
    return _table(["pair", "difference", "95% CI", "McNemar exact p", "only a / only b passes"], rows)


# Kinds a shorter answer does not make easier to follow: a gain there is not a length effect.
LENGTH_FREE = {
    "change_case:english_lowercase",
    "change_case:english_capital",
    "startend:quotation",
    "startend:end_checker",
    "detectable_format:title",
    "detectable_content:postscript",
    "keywords:existence",
}


def _kinds(f: dict) -> list[str]:
    labels = list(f["evals"])
    kinds = sorted({k for e in f["evals"].values() for k in e["by_kind"]})
    rows = [
        [
            k + (" ‡" if k in LENGTH_FREE else ""),
            *(_kind_rate(f["evals"][m]["by_kind"].get(k)) for m in labels),
        ]
        for k in kinds
    ]
    note = "‡ a shorter answer does not make this rule easier to follow."
    return _table(["rule kind (share followed)", *labels], rows) + ["", note]


def _kind_rate(r: dict | None) -> str:
    return "–" if not r or r.get("rate") is None else f"{_pct(r['rate'])} (n={r['n']})"


def _lengths(f: dict) -> list[str]:
    rows = [
        [k, "–" if e["mean_words"] is None else f"{e['mean_words']:.0f}", _pct(e["truncated"])]
        for k, e in f["evals"].items()
    ]
    return _table(["model", "mean answer length (words)", "cut off at max_tokens"], rows)


def _bleed(f: dict) -> list[str]:
    if not f["bleed"]:
        return ["Not measured in a dev run."]
    rows = [
        [
            k,
            _pct(b["rate"]),
            f"{b['showing']} of {b['answers']}",
            ", ".join(f"{x} {n}" for x, n in sorted(b["by_format"].items())) or "none",
        ]
        for k, b in f["bleed"].items()
    ]
    return _table(["model", "answers showing a rule format", "count", "formats"], rows)


def _ifeval(f: dict) -> list[str]:
    i = f["ifeval"]
    if not i:
        return ["IFEval was not run ([ifeval] limit = 0, or a dev run)."]
    rows = [
        [k, _ci(i[k]["prompt_level"]), _ci(i[k]["instruction_level"]), _words(i[k].get("mean_words"))]
        for k in ("base", "tuned")
    ]
    head = ["model", "prompt-level (strict)", "instruction-level (strict)", "mean words"]
    paired = _differences({"differences": i.get("differences", [])})
    return [f"Benchmark `{i['benchmark']}`:", "", *_table(head, rows), "", *paired]


def _words(value) -> str:
    return "–" if value is None else f"{value:.0f}"


def _training(f: dict) -> list[str]:
    rows = []
    for label, t in f.get("training", {}).items():
        r = t.get("result") or {}
        rows.append(
            [
                label,
                *(str(r.get(k, "–")) for k in ("samples", "steps")),
                _loss(r.get("first_loss")),
                _loss(r.get("last_loss")),
            ]
        )
    return _table(["fine-tune", "rows", "steps", "first loss", "last loss"], rows)


def _loss(value) -> str:
    return "–" if value is None else f"{value:.3f}"


def targets(f: dict) -> dict[str, bool | None]:
    """The issue's targets, met or not (None where not measured)."""
    diff = {(d["model_a"], d["model_b"]): d for d in f["differences"]}
    tuned, beats = diff.get(("tuned", "base")), diff.get(("tuned", "control"))
    gain = tuned["diff"] if tuned and tuned["diff"] is not None else None
    ifeval, leak = f["ifeval"], f["bleed"].get("tuned")
    return {
        "held-out gain >= +25 points": None if gain is None else gain >= 0.25,
        "gain significant (McNemar p < 0.05)": None if gain is None else tuned["mcnemar_p"] < 0.05,
        "at least 200 held-out system prompts": f["benchmark"]["items"] >= 200,
        # "Far less": the tuned model beats the control itself, significantly, not just by a point.
        "control gains far less (tuned beats it, p < 0.05)": None
        if not beats or beats["diff"] is None
        else beats["diff"] > 0 and beats["mcnemar_p"] < 0.05,
        "IFEval not worse beyond its CI": _ifeval_ok(ifeval) if ifeval else None,
        "bleed under 5%": None if not leak or leak["rate"] is None else leak["rate"] < 0.05,
        "under an hour": sum(f["timings"].values()) < 3600,
    }


def _ifeval_ok(i: dict) -> bool | None:
    """The tuned model's prompt-level rate is at or above the lower end of the base's 95% CI."""
    base, tuned = i["base"]["prompt_level"], i["tuned"]["prompt_level"]
    if base["ci95"] is None or tuned["rate"] is None:
        return None
    return tuned["rate"] >= base["ci95"][0]


def _targets(f: dict) -> list[str]:
    words = {True: "met", False: "NOT met", None: "not measured"}
    return _table(["target", "result"], [[k, words[v]] for k, v in targets(f).items()])


def _timings(f: dict) -> list[str]:
    rows = [[k, f"{v:.0f}"] for k, v in f["timings"].items()]
    return _table(["step", "seconds"], rows) + ["", f"Total: {sum(f['timings'].values()) / 60:.1f} min."]


def markdown(f: dict) -> str:
    """The report text, one section per figure."""
    parts = [
        _targets,
        _config,
        _data,
        _training,
        _bench,
        _models,
        _differences,
        _kinds,
        _lengths,
        _bleed,
        _ifeval,
        _timings,
    ]
    lines = ["# RNR experiment report", ""]
    for title, part in zip(SECTIONS, parts):
        lines += [title, "", *part(f), ""]
    return "\n".join(lines)


def chart(f: dict):
    """Pass rates with CIs per model, and per rule kind, as one plotly figure."""
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=1, cols=2, column_widths=[0.3, 0.7], subplot_titles=("Held-out pass rate", "Per rule kind")
    )
    labels = list(f["evals"])
    rates = [f["evals"][k]["pass_rate"] for k in labels]
    fig.add_bar(
        x=labels,
        y=[r["rate"] or 0 for r in rates],
        error_y={
            "type": "data",
            "symmetric": False,
            "array": [(r["ci95"] or [0, 0])[1] - (r["rate"] or 0) for r in rates],
            "arrayminus": [(r["rate"] or 0) - (r["ci95"] or [0, 0])[0] for r in rates],
        },
        showlegend=False,
        row=1,
        col=1,
    )
    kinds = sorted({k for e in f["evals"].values() for k in e["by_kind"]})
    for label in labels:
        by = f["evals"][label]["by_kind"]
        fig.add_bar(
            x=[k.split(":")[-1] for k in kinds],
            y=[by.get(k, {}).get("rate") or 0 for k in kinds],
            name=label,
            row=1,
            col=2,
        )
    fig.update_yaxes(range=[0, 1], tickformat=".0%")
    fig.update_layout(barmode="group", title="RNR experiment: base vs fine-tuned vs control")
    return fig


def write_report(out: Path, figures: dict) -> list[str]:
    """report.md, chart.html and chart.json in `out`."""
    out = Path(out)
    (out / "report.md").write_text(markdown(figures), encoding="utf-8")
    fig = chart(figures)
    fig.write_html(str(out / "chart.html"), include_plotlyjs=True)  # offline: no script fetched
    (out / "chart.json").write_text(fig.to_json(), encoding="utf-8")
    return [str(out / n) for n in ("report.md", "chart.html", "chart.json")]
