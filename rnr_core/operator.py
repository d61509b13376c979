"""The operator's configuration file: personal or team mode, the roles of logged-in people, the
models a team may use, the key variables a model may read and where exports go.

TOML at `RNR_CONFIG`, else `RNR_HOME/config.toml` if it exists, else built-in defaults (personal mode).
It is never edited in the browser, and a bad entry is refused when it is loaded, naming the entry.
"""

import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from rnr_core import settings
from rnr_core.errors import SettingError
from rnr_core.secrets import has_secret, scrub

ROLES = ("viewer", "reviewer", "maintainer")  # each may do what the ones before it may
MODES = ("personal", "team")
DEFAULT_KEY_ENVS = ("OPENAI_API_KEY",)
DEFAULT_CONCURRENCY = 16
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class TeamModel:
    """One model the operator lets a team use, picked by `name`."""

    name: str
    base_url: str
    model: str
    key_env: str | None = None
    concurrency: int = DEFAULT_CONCURRENCY
    timeout: float = settings.DEFAULT_TIMEOUT


@dataclass(frozen=True)
class OperatorConfig:
    """The operator's choices; `path` is the file they came from (None: built-in defaults)."""

    mode: str = "personal"
    key_envs: tuple[str, ...] = DEFAULT_KEY_ENVS
    export_root: Path = field(default_factory=lambda: settings.rnr_home() / "exports")
    roles: dict[str, str] = field(default_factory=dict)
    models: dict[str, TeamModel] = field(default_factory=dict)
    path: Path | None = None

    @property
    def team(self) -> bool:
        return self.mode == "team"

    def role_of(self, email: str | None) -> str | None:
        """The role of `email`: its own entry, else its domain's `@domain` entry, else None."""
        email = (email or "").strip().lower()
        if "@" not in email:
            return None
        return self.roles.get(email) or self.roles.get("@" + email.rpartition("@")[2])

    def readable_key_envs(self) -> tuple[str, ...]:
        """Every environment variable a model may read a key from: key_envs and the team models'."""
        named = [m.key_env for m in self.models.values() if m.key_env]
        return tuple(dict.fromkeys([*self.key_envs, *named]))

    def model_at(self, model: str, base_url: str) -> TeamModel | None:
        """The team model serving `model` at `base_url`, if the operator lists one."""
        return next((m for m in self.models.values() if (m.model, m.base_url) == (model, base_url)), None)

    def where(self) -> str:
        """The file to edit, for messages: the loaded file, else where one would be read."""
        return str(self.path or config_path() or Path(settings.rnr_home()) / "config.toml")


def config_path() -> Path | None:
    """The operator's file: `RNR_CONFIG`, else `RNR_HOME/config.toml` if it exists, else None."""
    named = os.environ.get("RNR_CONFIG", "").strip()
    if named:
        return Path(named).expanduser()
    home = settings.rnr_home() / "config.toml"
    return home if home.is_file() else None


def load(path: Path | None) -> OperatorConfig:
    """The configuration in `path` (None: the defaults), checked entry by entry."""
    if path is None:
        return OperatorConfig()
    data = _read(path)
    unknown = sorted(set(data) - set(_TOP_LEVEL))
    if unknown:
        _refuse(path, unknown[0], f"is not a setting; the settings are {', '.join(_TOP_LEVEL)}")
    values = {name: check(path, data[name]) for name, check in _TOP_LEVEL.items() if name in data}
    loaded = OperatorConfig(**values, path=path)
    if loaded.team:
        for name, what in (("roles", "a [roles] entry"), ("models", "a [[models]] entry")):
            if not getattr(loaded, name):
                _refuse(path, name, f"is empty: team mode needs at least {what}")
    return loaded


def _read(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingError(
            f"The configuration file {path} does not exist: create it, or unset RNR_CONFIG."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingError(f"Cannot read the configuration file {path} ({exc}).") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingError(f"{path} is not valid TOML ({exc}): fix the line it names.") from None


def _refuse(path: Path, entry: str, problem: str):
    raise SettingError(f"{path}: {entry} {problem}.")


def _mode(path: Path, value) -> str:
    if value not in MODES:
        _refuse(path, "mode", f"is {scrub(repr(value))}; give one of {', '.join(map(repr, MODES))}")
    return value


def _env_name(path: Path, entry: str, value) -> str:
    if not (isinstance(value, str) and ENV_NAME.match(value)):
        # Never repeat the value: a key pasted where its variable's name belongs would leak.
        _refuse(path, entry, "is not the name of an environment variable (letters, digits and _)")
    return value


def _key_envs(path: Path, value) -> tuple[str, ...]:
    if not isinstance(value, list):
        _refuse(path, "key_envs", 'must be a list of variable names, such as ["OPENAI_API_KEY"]')
    return tuple(_env_name(path, f"key_envs[{i}]", name) for i, name in enumerate(value, 1))


def _export_root(path: Path, value) -> Path:
    root = Path(value).expanduser() if isinstance(value, str) and value.strip() else None
    if root is None or not root.is_absolute():
        _refuse(path, "export_root", 'must be an absolute folder path, such as "/srv/rnr/exports"')
    return root


def _roles(path: Path, value) -> dict[str, str]:
    if not isinstance(value, dict):
        _refuse(path, "roles", 'must be a table of e-mail or "@domain" = role')
    roles = {}
    for who, role in value.items():
        entry = f"roles.{who!r}"
        key = who.strip().lower()
        if key.count("@") != 1 or key.endswith("@") or " " in key:
            _refuse(path, entry, 'is neither an e-mail address nor an "@domain"')
        if role not in ROLES:
            _refuse(path, entry, f"has unknown role {scrub(repr(role))}; the roles are {', '.join(ROLES)}")
        if key in roles:
            _refuse(path, entry, "is listed twice (e-mails are compared in lower case)")
        roles[key] = role
    return roles


_MODEL_KEYS = ("name", "base_url", "model", "key_env", "concurrency", "timeout")


def _models(path: Path, value) -> dict[str, TeamModel]:
    if not isinstance(value, list):
        _refuse(path, "models", "must be [[models]] tables")
    models: dict[str, TeamModel] = {}
    for i, entry in enumerate(value, 1):
        model = _model(path, i, entry)
        if model.name in models:
            _refuse(path, f"models[{i}] ({model.name!r})", "repeats a name; give each model its own")
        models[model.name] = model
    return models


def _model(path: Path, i: int, entry) -> TeamModel:
    if not isinstance(entry, dict):
        _refuse(path, f"models[{i}]", "must be a table with name, base_url and model")
    label = f"models[{i}]" + (f" ({entry['name']!r})" if isinstance(entry.get("name"), str) else "")
    unknown = sorted(set(entry) - set(_MODEL_KEYS))
    if unknown:
        _refuse(path, label, f"has unknown key {unknown[0]!r}; the keys are {', '.join(_MODEL_KEYS)}")
    for key in ("name", "base_url", "model"):
        if not (isinstance(entry.get(key), str) and entry[key].strip()):
            _refuse(path, label, f"has no {key}; each model needs name, base_url and model")
    fields = {key: entry[key].strip() for key in ("name", "base_url", "model")}
    _base_url(path, label, fields["base_url"])
    return TeamModel(
        **fields,
        key_env=_model_key_env(path, label, entry.get("key_env")),
        concurrency=_concurrency(path, label, entry.get("concurrency", DEFAULT_CONCURRENCY)),
        timeout=_timeout(path, label, entry.get("timeout", settings.DEFAULT_TIMEOUT)),
    )


def _base_url(path: Path, label: str, url: str) -> None:
    if has_secret(url):
        _refuse(path, label, "has a credential in its base_url; put the key in the variable named by key_env")
    if not re.match(r"^https?://[^/\s]+", url):
        _refuse(path, label, f"has base_url {url!r}; give an http:// or https:// address")


def _model_key_env(path: Path, label: str, value) -> str | None:
    if value is None:
        return None
    name = _env_name(path, f"{label} key_env", value)
    if not os.environ.get(name, "").strip():
        _refuse(path, f"{label} key_env", f"names {name}, which is not set: set it before starting")
    return name


def _concurrency(path: Path, label: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        _refuse(path, f"{label} concurrency", "must be a whole number of at least 1")
    return value


def _timeout(path: Path, label: str, value) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    if not ok:
        _refuse(path, f"{label} timeout", "must be a number of seconds above 0")
    return float(value)


_TOP_LEVEL = {
    "mode": _mode,
    "key_envs": _key_envs,
    "export_root": _export_root,
    "roles": _roles,
    "models": _models,
}


def describe(cfg: OperatorConfig) -> dict:
    """What `cfg` allows, for `rnr config check`: names and whether keys are set, never their values."""
    return {
        "file": str(cfg.path) if cfg.path else None,
        "mode": cfg.mode,
        "key_envs": {name: bool(os.environ.get(name)) for name in cfg.key_envs},
        "export_root": str(cfg.export_root),
        "roles": dict(cfg.roles),
        "models": [
            {
                "name": m.name,
                "base_url": m.base_url,
                "model": m.model,
                "key_env": m.key_env,
                "concurrency": m.concurrency,
                "timeout": m.timeout,
            }
            for m in cfg.models.values()
        ],
    }


def describe_text(d: dict) -> str:
    """`describe`'s dict as lines for a terminal."""
    lines = [
        f"file: {d['file'] or 'none (built-in defaults)'}",
        f"mode: {d['mode']}",
        "key_envs: "
        + (", ".join(f"{n} ({'set' if s else 'not set'})" for n, s in d["key_envs"].items()) or "none"),
        f"export_root: {d['export_root']}",
        f"roles: {len(d['roles'])}",
        *(f"  {who} = {role}" for who, role in d["roles"].items()),
        f"models: {len(d['models'])}",
        *(
            f"  {m['name']}: {m['model']} at {m['base_url']}, key in {m['key_env'] or 'none'}, "
            f"concurrency {m['concurrency']}, timeout {m['timeout']:g} s"
            for m in d["models"]
        ),
    ]
    return "\n".join(lines)
