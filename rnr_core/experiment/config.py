"""The experiment's configuration: one TOML file, validated key by key before any work starts.

Every error names the file and the key (`[section] key`) and says what is accepted.
"""

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from rnr_core.errors import SettingError
from rnr_core.experiment.wording import has_wording
from rnr_core.rules.base import KINDS

SPLITS = ("train", "dev", "heldout")


def _int(low: int, high: int | None = None):
    def ok(v):
        return isinstance(v, int) and not isinstance(v, bool) and v >= low and (high is None or v <= high)

    bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
    return ok, f"an integer {bound}"


def _float(low: float, high: float):
    def ok(v):
        return isinstance(v, int | float) and not isinstance(v, bool) and low < v <= high

    return ok, f"a number above {low:g} and at most {high:g}"


_STR = (lambda v: isinstance(v, str) and bool(v.strip()), "a non-empty string")
_STRS = (
    lambda v: isinstance(v, list) and bool(v) and all(isinstance(x, str) for x in v),
    "a list of strings",
)
_RATIOS = (lambda v: isinstance(v, dict), "a table such as {train = 0.7, dev = 0.05, heldout = 0.25}")

# section -> key -> (check, what it must be, default; REQUIRED marks a key without one)
REQUIRED = object()
SCHEMA: dict[str, dict[str, tuple]] = {
    "run": {
        "out": (*_STR, REQUIRED),
        "name": (*_STR, "loop"),
        "seed": (*_int(0), 0),
    },
    "data": {
        "source": (*_STR, "recycled"),
        "files": (*_STRS, REQUIRED),
        "samples": (*_int(1), REQUIRED),
        "ratios": (*_RATIOS, REQUIRED),
        "kinds": (*_STRS, REQUIRED),
        "rules_min": (*_int(1, 3), 1),
        "rules_max": (*_int(1, 3), 2),
        "max_words": (*_int(10), 100),
        "plain": (
            (lambda v: isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v < 1),
            "a share from 0 to below 1 (of rows with a role and no rules)",
            0.0,
        ),
        "teacher": (*_STR, "local"),
        "attempts": (*_int(1, 16), 4),
        "temperature": (*_float(0.0, 2.0), 0.8),
        "revisions": (*_int(0, 5), 2),
        "max_tokens": (*_int(16), 400),
    },
    "benchmark": {
        "split": (
            (lambda v: v in ("heldout", "dev")),
            "'heldout' (the report) or 'dev' (to fix a recipe)",
            "heldout",
        ),
        "items": (*_int(1), 200),
        "bleed": (*_int(1), 100),
        "max_tokens": (*_int(16), 320),
        "batch_size": (*_int(1, 256), 16),
    },
    "train": {
        "base": (*_STR, "local"),
        "max_steps": (*_int(1), REQUIRED),
        "batch_size": (*_int(1), 8),
        "learning_rate": (*_float(0.0, 1.0), 5e-5),
        "max_length": (*_int(64), 384),
        "control": ((lambda v: isinstance(v, bool)), "true or false", True),
    },
    "ifeval": {
        "limit": (*_int(0), 60),
        "max_tokens": (*_int(16), 320),
    },
}


@dataclass(frozen=True)
class LoopConfig:
    """The validated settings: one attribute table per section, plus where the file was."""

    path: Path
    run: dict
    data: dict
    benchmark: dict
    train: dict
    ifeval: dict
    raw: dict = field(default_factory=dict)

    @property
    def out(self) -> Path:
        return Path(self.run["out"])

    def as_dict(self) -> dict:
        return {s: getattr(self, s) for s in SCHEMA}


def load(path: str | Path, overrides: dict | None = None) -> LoopConfig:
    """Read and validate the TOML file; `overrides` ({section: {key: value}}) replace file values."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingError(f"Cannot read the experiment config {path}: {exc.strerror or exc}.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingError(f"{path}: not valid TOML ({exc}).") from exc
    for section, values in (overrides or {}).items():
        raw.setdefault(section, {}).update(values)
    return validate(raw, str(path))


def validate(raw: dict, where: str = "config") -> LoopConfig:
    """A LoopConfig from parsed TOML, or SettingError naming the first bad key."""
    unknown = sorted(set(raw) - set(SCHEMA))
    if unknown:
        raise SettingError(f"{where}: unknown section [{unknown[0]}]; sections are {', '.join(SCHEMA)}.")
    sections = {name: _section(raw.get(name, {}), name, where) for name in SCHEMA}
    _check_data(sections["data"], where)
    path = Path(where)
    # Paths in the file are taken from the file's folder, wherever the command runs.
    sections["data"]["files"] = [str(_near(path, f)) for f in sections["data"]["files"]]
    sections["run"]["out"] = str(_near(path, sections["run"]["out"]))
    return LoopConfig(path=path, raw=raw, **sections)


def _near(config: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else (config.parent / p).absolute()


def _section(values, name: str, where: str) -> dict:
    if not isinstance(values, dict):
        raise SettingError(f"{where}: [{name}] must be a table of keys.")
    spec = SCHEMA[name]
    unknown = sorted(set(values) - set(spec))
    if unknown:
        raise SettingError(f"{where}: [{name}] {unknown[0]}: unknown key; [{name}] takes {', '.join(spec)}.")
    out = {}
    for key, (ok, expected, default) in spec.items():
        if key not in values:
            if default is REQUIRED:
                raise SettingError(f"{where}: [{name}] {key} is missing; give {expected}.")
            out[key] = default
        elif not ok(values[key]):
            raise SettingError(f"{where}: [{name}] {key} must be {expected}, got {values[key]!r}.")
        else:
            out[key] = values[key]
    return out


def _check_data(data: dict, where: str) -> None:
    from rnr_core.experiment.samples import SOURCES

    if data["source"] not in SOURCES:
        raise SettingError(
            f"{where}: [data] source must be one of {', '.join(SOURCES)}, got {data['source']!r}."
        )
    for kind in data["kinds"]:
        if kind not in KINDS or not has_wording(kind):
            raise SettingError(
                f"{where}: [data] kinds: {kind!r} is not a kind the experiment can word two ways; "
                f"use some of {', '.join(sorted(k for k in KINDS if has_wording(k)))}."
            )
    if data["source"] == "recycled":
        from rnr_core.rules.fixes import fixable

        unfixable = [k for k in data["kinds"] if not fixable(k)]
        if unfixable:
            raise SettingError(
                f"{where}: [data] kinds: {unfixable[0]!r} has no mechanical fixer, so recycled answers "
                'cannot be edited to follow it; drop it or use source = "self".'
            )
    if data["rules_min"] > data["rules_max"]:
        raise SettingError(f"{where}: [data] rules_min ({data['rules_min']}) is above rules_max.")
    _check_ratios(data["ratios"], where)


def _check_ratios(ratios: dict, where: str) -> None:
    if set(ratios) != set(SPLITS):
        raise SettingError(
            f"{where}: [data] ratios must give exactly {', '.join(SPLITS)}, "
            f"got {', '.join(ratios) or 'none'}."
        )
    for split, value in ratios.items():
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value < 1:
            raise SettingError(f"{where}: [data] ratios.{split} must be a number from 0 to below 1.")
    if ratios["heldout"] <= 0 or ratios["train"] <= 0:
        raise SettingError(f"{where}: [data] ratios: train and heldout must both be above 0.")
    if not math.isclose(sum(ratios.values()), 1.0, abs_tol=1e-6):
        raise SettingError(
            f"{where}: [data] ratios must sum to 1, got {sum(ratios.values()):g}; adjust them."
        )
