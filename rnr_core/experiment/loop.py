"""The RNR experiment end to end: build training rows, hold out a benchmark, evaluate the base model,
fine-tune it (and a control without rules), evaluate both, measure IFEval and bleed, write the report.

Each step is a small coroutine whose result is stored in the output folder (see `steps`), so a rerun
resumes. Evaluations go through the eval core, so every number also lives in the store.
"""

from rnr_core.evaluate import benchmark as benchmarks
from rnr_core.evaluate import report as reports
from rnr_core.evaluate.items import content_hash, from_line
from rnr_core.evaluate.run import ensure_responses, run_eval
from rnr_core.experiment import bleed, heldout, models, sources
from rnr_core.experiment.config import LoopConfig
from rnr_core.experiment.report import write_report
from rnr_core.experiment.samples import SOURCES
from rnr_core.experiment.steps import Steps, progress_line, read_json, read_jsonl, write_json, write_jsonl

TUNED, CONTROL, BASE = "tuned", "control", "base"


async def run_loop(store, cfg: LoopConfig, say=None, started_by: str | None = None) -> dict:
    """Run (or resume) every step; returns the report's figures and where it was written."""
    loop = _Loop(store, cfg, Steps(cfg.out, say), started_by)
    return await loop.run()


class _Loop:
    def __init__(self, store, cfg: LoopConfig, steps: Steps, started_by):
        self.store, self.cfg, self.steps, self.by = store, cfg, steps, started_by
        self.out, self.say = cfg.out, steps.say
        self.name = cfg.run["name"]

    async def run(self) -> dict:
        _same_settings(self.cfg)
        on = self.cfg.benchmark["split"]
        split = await self.steps.run("split", self.split)
        built = await self.steps.run("build", lambda: self.build(split))
        b, ifeval_cfg = self.cfg.benchmark, self.cfg.ifeval
        bench = await self.steps.run(
            f"benchmark_{on}", lambda: self.hold_out(split), {k: b[k] for k in ("items", "bleed")}
        )
        answers = {"benchmark": bench["benchmark"], "bleed": bench["bleed"], "max_tokens": b["max_tokens"]}
        specs = {BASE: (await self.steps.run("base", self.base))["spec"]}
        training = {}
        for label in self._trained():
            training[label] = await self.steps.run(f"train_{label}", lambda lb=label: self.train(lb))
            specs[label] = training[label]["spec"]
        evals = {}
        for label, spec in specs.items():
            evals[label] = await self.steps.run(
                f"eval_{label}_{on}", lambda s=spec: self.evaluate(bench, s), answers
            )
        leaked = await self.steps.run(f"bleed_{on}", lambda: self.bleed(bench, specs, built), answers)
        ifeval = await self.steps.run("ifeval", lambda: self.ifeval(specs), ifeval_cfg)
        figures = {
            "config": self.cfg.as_dict(),
            "data": built["stats"],
            "training": training,
            "benchmark": bench,
            "specs": specs,
            "evals": evals,
            "differences": self.differences(bench, specs),
            "bleed": leaked,
            "ifeval": ifeval,
            "timings": self.steps.timings,
        }
        files = write_report(self.out, figures)
        write_json(self.out / "figures.json", figures)
        return {"out": str(self.out), "files": files, **figures}

    def _dev(self) -> bool:
        """A dev run fixes the recipe: the tuned model alone, no control, bleed or IFEval."""
        return self.cfg.benchmark["split"] == "dev"

    def _trained(self) -> list[str]:
        return [TUNED, CONTROL] if self.cfg.train["control"] and not self._dev() else [TUNED]

    # ---- 1-2: data and held-out prompts -------------------------------------------------------

    async def split(self) -> dict:
        records = sources.load(self.cfg.data["files"])
        ratios = self.cfg.data["ratios"]
        heldout = max(round(len(records) * ratios["heldout"]), 1)
        dev = round(len(records) * ratios["dev"])
        groups = sources.split(records, heldout, dev, self.cfg.run["seed"])
        write_json(self.out / "split" / "groups.json", groups)
        return {k: len(v) for k, v in groups.items()}

    def _groups(self) -> dict:
        return read_json(self.out / "split" / "groups.json")

    async def build(self, split: dict) -> dict:
        build = SOURCES[self.cfg.data["source"]]
        rows, stats = await build(self._groups()["train"], _Data(self.cfg), self.store)
        if not rows:
            raise _nothing(self.cfg, stats)
        data = self.out / "data"
        write_jsonl(data / "rows.jsonl", rows)
        write_jsonl(data / "rules" / "train.jsonl", [{"messages": r["messages"]} for r in rows])
        write_jsonl(data / "control" / "train.jsonl", [{"messages": r["control"]} for r in rows])
        kinds: dict[str, int] = {}
        for row in rows:
            for rule in row["rules"]:
                kinds[rule["kind"]] = kinds.get(rule["kind"], 0) + 1
        plain = sum(not r["rules"] for r in rows)
        stats = {**stats, "rows": len(rows), "plain": plain, "by_kind": kinds}
        stats["source"] = self.cfg.data["source"]
        return {"stats": stats}

    async def hold_out(self, split: dict) -> dict:
        held = self._groups()[self.cfg.benchmark["split"]]
        cfg = _Data(self.cfg)
        lines = heldout.benchmark_lines(held, cfg)
        plain = heldout.bleed_lines(held, cfg)
        rows = read_jsonl(self.out / "data" / "rows.jsonl")
        checks = heldout.assert_disjoint(rows, lines)
        on = self.cfg.benchmark["split"]
        names = {
            "split": on,
            "benchmark": self._freeze(on, lines),
            "bleed": self._freeze(f"bleed-{on}", plain),
        }
        return {**names, "items": len(lines), "bleed_items": len(plain), "leaks": checks}

    def _freeze(self, what: str, lines: list[dict]) -> str:
        """Freeze the lines once; the name carries their content hash, so a rerun finds it."""
        path = self.out / "heldout" / f"{what}.jsonl"
        write_jsonl(path, lines)
        items = [from_line(f"{path}:{i}", line) for i, line in enumerate(lines, 1)]
        name = f"{self.name}-{what}-{content_hash(items)[:8]}"
        if self.store.benchmark_row(name) is None:
            benchmarks.freeze(self.store, name, file=path, created_by=self.by)
        return name

    # ---- 3-6: models, training and evaluation -------------------------------------------------

    async def base(self) -> dict:
        return {"spec": models.base_spec(self.store, self.cfg.train["base"])}

    async def train(self, label: str) -> dict:
        folder = self.out / "data" / ("rules" if label == TUNED else CONTROL)
        return await models.train(
            self.store,
            self.cfg,
            folder,
            self.out / "models" / label,
            f"{self.name}-{label}",
            self.say,
            self.by,
        )

    async def evaluate(self, bench: dict, spec: str) -> dict:
        models.register(spec, self.cfg.benchmark["batch_size"])
        b = self.cfg.benchmark
        await run_eval(
            self.store,
            bench["benchmark"],
            [spec],
            judge=None,
            max_tokens=b["max_tokens"],
            temperature=0.0,
            started_by=self.by,
            progress=progress_line(self.say, f"eval {spec}"),
        )
        report = reports.eval_report(self.store, bench["benchmark"], spec, judge=None)
        return {**_summary(report), **self._lengths(bench["benchmark"], spec)}

    def _lengths(self, name: str, spec: str) -> dict:
        """Mean answer length in words, and the share cut off at max_tokens."""
        bench = benchmarks.load(self.store, name)
        row = self.store.latest_eval(bench["id"], spec)
        answers = self._answers(name, spec)
        return {"mean_words": _mean_words(answers), "truncated": self._truncated(row["id"])}

    def _truncated(self, eval_id: str) -> float | None:
        return models.truncated_share(self.store, eval_id, self.cfg.benchmark["max_tokens"])

    def differences(self, bench: dict, specs: dict) -> list[dict]:
        return paired(self.store, bench["benchmark"], specs)

    # ---- 7-8: bleed and IFEval ----------------------------------------------------------------

    async def bleed(self, bench: dict, specs: dict, built: dict) -> dict:
        if self._dev():
            return {}
        phrases = sorted(
            {
                r["kwargs"]["end_phrase"]
                for row in read_jsonl(self.out / "data" / "rows.jsonl")
                for r in row["rules"]
                if r["kind"] == "startend:end_checker"
            }
        )
        result = {}
        for label, spec in specs.items():
            models.register(spec, self.cfg.benchmark["batch_size"])
            answers = await ensure_responses(
                self.store,
                bench["bleed"],
                spec,
                max_tokens=self.cfg.benchmark["max_tokens"],
                temperature=0.0,
                progress=progress_line(self.say, f"bleed {spec}"),
            )
            result[label] = bleed.bleed(list(answers.values()), phrases)
        return result

    async def ifeval(self, specs: dict) -> dict:
        limit = self.cfg.ifeval["limit"]
        if not limit or self._dev():
            return {}
        name = f"ifeval-{limit}-s{self.cfg.run['seed']}"  # the name `rnr eval --ifeval --limit` uses
        if self.store.benchmark_row(name) is None:
            benchmarks.freeze_ifeval(self.store, None, name, limit, self.cfg.run["seed"], self.by)
        result = {"benchmark": name}
        for label in (BASE, TUNED):
            models.register(specs[label], self.cfg.benchmark["batch_size"])
            run = await run_eval(
                self.store,
                name,
                [specs[label]],
                judge=None,
                max_tokens=self.cfg.ifeval["max_tokens"],
                temperature=0.0,
                started_by=self.by,
                progress=progress_line(self.say, f"ifeval {label}"),
            )
            report = run["reports"][specs[label]]
            result[label] = {
                "prompt_level": report["ifeval"]["strict"]["prompt_level"],
                "instruction_level": report["ifeval"]["strict"]["instruction_level"],
                "mean_words": _mean_words(self._answers(name, specs[label])),
            }
        result["differences"] = paired(self.store, name, {k: specs[k] for k in (BASE, TUNED)})
        return result

    def _answers(self, name: str, spec: str) -> list[str]:
        bench = benchmarks.load(self.store, name)
        row = self.store.latest_eval(bench["id"], spec)
        return [r["response"] for r in self.store.eval_responses(row["id"]).values() if r["response"]]


PAIRS = ((TUNED, BASE), (CONTROL, BASE), (TUNED, CONTROL))


def paired(store, name: str, specs: dict) -> list[dict]:
    """Paired pass-rate differences (bootstrap CI, McNemar's exact p) between the models' latest
    evaluations on benchmark `name`, from the outcomes stored per item."""
    loaded = benchmarks.load(store, name)
    outcomes = {}
    for label, spec in specs.items():
        row = store.latest_eval(loaded["id"], spec)
        _, outcomes[label] = reports.report_with_outcomes(store, loaded, row["id"], loaded["items"], None)
    return [
        d
        for a, b in PAIRS
        if a in outcomes and b in outcomes
        for d in reports.differences({a: outcomes[a], b: outcomes[b]})
    ]


# Settings an output folder's data and fine-tunes were made with; the benchmark may change between
# runs (a dev run, then the held-out one), and the control may be added later.
_FIXED = {
    "run": ("name", "seed"),
    "data": None,
    "train": ("base", "max_steps", "batch_size", "learning_rate", "max_length"),
}


def _same_settings(cfg: LoopConfig) -> None:
    """Refuse to resume a folder made with other data or training settings: its steps would be stale."""
    from rnr_core.errors import SettingError

    fixed = {
        s: {k: v for k, v in getattr(cfg, s).items() if keys is None or k in keys}
        for s, keys in _FIXED.items()
    }
    path = cfg.out / "settings.json"
    before = read_json(path)
    if before is None:
        write_json(path, fixed)
        return
    for section, values in fixed.items():
        for key, value in values.items():
            if before.get(section, {}).get(key) != value:
                raise SettingError(
                    f"{cfg.out} was made with [{section}] {key} = {before.get(section, {}).get(key)!r}, "
                    f"not {value!r}: its data and fine-tunes would be stale. "
                    "Use another [run] out (or --out)."
                )


class _Data:
    """The settings the data builders read, flattened from the config."""

    def __init__(self, cfg: LoopConfig):
        d = cfg.data
        self.seed, self.data, self.benchmark = cfg.run["seed"], d, cfg.benchmark
        self.samples, self.kinds, self.max_words = d["samples"], d["kinds"], d["max_words"]
        self.rules_min, self.rules_max, self.plain = d["rules_min"], d["rules_max"], d["plain"]


def _summary(report: dict) -> dict:
    keep = ("model", "eval_id", "items", "answered", "failed", "pass_rate", "by_kind", "ifeval")
    return {k: report[k] for k in keep}


def _mean_words(answers: list[str]) -> float | None:
    return sum(len(a.split()) for a in answers) / len(answers) if answers else None


def _nothing(cfg: LoopConfig, stats: dict):
    from rnr_core.errors import RnrError

    return RnrError(
        f"No training row passed its checkers ({stats}). Try other [data] kinds or a larger [data] samples."
    )
