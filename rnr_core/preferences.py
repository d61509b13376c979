"""What the app remembers for a person across reloads and restarts: the reviewer name and the model
settings. Each is checked before it is stored, and none may hold a credential."""

import getpass
from collections.abc import Callable
from dataclasses import dataclass

from rnr_core import access, settings
from rnr_core.errors import SettingError
from rnr_core.models.connection import MODES, check_key_env, check_limits
from rnr_core.secrets import has_secret, scrub


@dataclass(frozen=True)
class Preference:
    """One remembered setting: the sidebar's label for it, its default and the check of a new value."""

    label: str
    default: Callable[[], object]
    check: Callable[[str, object], object]  # (label, value) -> the value to store; raises SettingError


def _text(label: str, value) -> str:
    value = str(value).strip()
    if has_secret(value):
        raise SettingError(
            f"{label} {scrub(value)!r} carries a credential: put the key in the environment variable "
            "named under API key variable instead."
        )
    return value


def _name(label: str, value) -> str:
    value = _text(label, value)
    if not value:
        raise SettingError(f"{label} is empty: type the name to store with every review action.")
    return value


def _mode(label: str, value) -> str:
    if value not in MODES:
        raise SettingError(f"{label} must be one of {', '.join(MODES)}.")
    return value


def _key_env(label: str, value) -> str:
    return check_key_env(str(value).strip())


def _team_model(label: str, value) -> str:
    return access.team_model(str(value)).name


def _first(names) -> str:
    return next(iter(names), "")


def _timeout(label: str, value) -> float:
    check_limits(float(value), 1)
    return float(value)


def _concurrency(label: str, value) -> int:
    check_limits(1.0, int(value))
    return int(value)


PREFERENCES: dict[str, Preference] = {
    "reviewer": Preference("Reviewer", getpass.getuser, _name),
    "model_mode": Preference("Choose by", lambda: MODES[0], _mode),
    "model_spec": Preference("Model spec", lambda: settings.DEFAULT_MODEL, _text),
    "base_url": Preference("Base URL", lambda: "", _text),
    "endpoint_model": Preference("Model name", lambda: "", _text),
    "key_env": Preference("API key variable", lambda: _first(access.config().key_envs), _key_env),
    # Team mode: the operator's model, by name; its endpoint and key variable are the operator's.
    "team_model": Preference("Team model", lambda: _first(access.config().models), _team_model),
    "timeout": Preference("Timeout (s)", lambda: settings.DEFAULT_TIMEOUT, _timeout),
    "concurrency": Preference("Concurrency", lambda: 16, _concurrency),
}


def personal_owner() -> str:
    """Whose preferences these are in personal mode: the OS user (a login identity in team mode)."""
    return f"os:{getpass.getuser()}"


def load(store, owner: str) -> dict:
    """Every preference of `owner`: the stored value where there is one, else the default."""
    stored = store.preferences(owner)
    return {name: stored.get(name, pref.default()) for name, pref in PREFERENCES.items()}


def check(name: str, value):
    """The value to keep for preference `name`; raises SettingError (saying why) if it is refused."""
    pref = PREFERENCES[name]
    return pref.check(pref.label, value)


def save(store, owner: str, values: dict) -> None:
    """Store checked preferences of `owner`, each replacing the previous one."""
    store.set_preferences(owner, {name: check(name, value) for name, value in values.items()})
