"""Who may do what: the acting identity, its role, and what the operator's configuration allows
(rnr_core.operator reads and checks that file)."""

import getpass
from dataclasses import dataclass
from pathlib import Path, PurePath

from rnr_core import settings
from rnr_core.errors import Forbidden, SettingError
from rnr_core.operator import (  # noqa: F401  (part of this module's interface)
    MODES,
    ROLES,
    OperatorConfig,
    TeamModel,
    config_path,
    describe,
    describe_text,
    load,
)
from rnr_core.secrets import scrub, watch_key_env

ACTIONS: dict[str, str] = {
    "read": "viewer",
    **dict.fromkeys(("review", "edit", "label", "vote"), "reviewer"),
    **dict.fromkeys(
        ("generate", "judge", "evaluate", "export", "train", "manage_datasets", "adjudicate", "set_task"),
        "maintainer",
    ),
}
LOGIN_FIELDS = ("redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url")


# ---- identities and the policy -----------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """Who acts: `id` is recorded with every action; `via` is "os" (personal mode) or "oidc" (login)."""

    id: str
    role: str
    via: str

    @property
    def owner(self) -> str:
        """Whose preferences the sidebar keeps: `os:<user>` or `oidc:<e-mail>`."""
        return f"{self.via}:{self.id}"


def _rank(role: str) -> int:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    return ROLES.index(role)


def may(identity: Identity, action: str) -> bool:
    """Whether `identity`'s role allows `action` (a key of ACTIONS)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; actions are {', '.join(ACTIONS)}")
    return _rank(identity.role) >= _rank(ACTIONS[action])


def who_may(action: str) -> list[str]:
    """The roles allowed `action`, least first."""
    return [role for role in ROLES if _rank(role) >= _rank(ACTIONS[action])]


def who_may_text(action: str) -> str:
    """The roles allowed `action`, in words: "reviewers and maintainers"."""
    return " and ".join(f"{role}s" for role in who_may(action))


def require(identity: Identity, action: str) -> Identity:
    """`identity` if it may do `action`; else Forbidden, naming the identity, its role and who may."""
    if not may(identity, action):
        raise Forbidden(
            f"{identity.id} is a {identity.role} and may not {action.replace('_', ' ')}: "
            f"only {who_may_text(action)} may. "
            "Ask the operator for another role if you need it."
        )
    return identity


def personal_identity(name: str | None = None) -> Identity:
    """The one person of personal mode: the sidebar's reviewer name, else the OS user; a maintainer."""
    return Identity(id=(name or "").strip() or getpass.getuser(), role="maintainer", via="os")


def login_identity(email: str | None, email_verified: object = None) -> Identity | None:
    """The logged-in person, recorded by e-mail, with their role; None if not listed.

    Roles are given to e-mails, so a login without one gets none. An e-mail the provider says it has
    not verified (`email_verified` false, as a boolean or, from some providers, a string) grants no
    role: anyone could claim it."""
    unverified = email_verified is False or str(email_verified).strip().lower() == "false"
    email = "" if unverified else (email or "").strip().lower()
    role = config().role_of(email) if email else None
    return Identity(id=email, role=role, via="oidc") if role else None


def missing_login(auth: dict | None) -> list[str]:
    """The fields of Streamlit's `[auth]` (secrets.toml) that team mode needs and are missing or empty."""
    auth = auth or {}
    return [name for name in LOGIN_FIELDS if not str(auth.get(name) or "").strip()]


# ---- the configuration, once per process ----------------------------------------------------


_LOADED: list[OperatorConfig] = []


def config() -> OperatorConfig:
    """The operator's configuration, read once per process; SettingError names a bad entry."""
    if not _LOADED:
        loaded = load(config_path())
        for name in loaded.readable_key_envs():  # their values are masked wherever text is shown
            watch_key_env(name)
        _LOADED.append(loaded)
    return _LOADED[0]


def reload() -> OperatorConfig:
    """Read the configuration again (after the environment or the file changed)."""
    _LOADED.clear()
    return config()


# ---- what the configuration allows ----------------------------------------------------------


def allowed_key_env(name: str) -> str:
    """`name` if the operator lets a model read a key from it; else SettingError (never naming it)."""
    cfg = config()
    if name not in cfg.readable_key_envs():
        raise SettingError(
            "API key variable names an environment variable the operator has not allowed; use one of "
            f"{', '.join(cfg.readable_key_envs())}. The operator can add it to key_envs in {cfg.where()}."
        )
    return name


def team_model(name: str) -> TeamModel:
    """The operator's model called `name`; SettingError names the ones there are."""
    models = config().models
    if name not in models:
        offered = ", ".join(models) or "none"
        raise SettingError(
            f"There is no team model {scrub(repr(name))}: pick one of the operator's models ({offered})."
        )
    return models[name]


def export_dir(name: str) -> Path:
    """Where an export named `name` goes: in team mode a folder under the export root, refusing any
    name that would leave it; in personal mode the path as typed."""
    cfg = config()
    if not cfg.team:
        return Path(name).expanduser()
    name = (name or "").strip()
    parts = PurePath(name).parts
    odd = "\\" in name or any(ord(c) < 32 for c in name)  # a Windows separator, a NUL or a newline
    if not name or odd or PurePath(name).is_absolute() or any(p in ("..", ".") for p in parts):
        raise SettingError(
            f"Export folder {name!r} must be a plain folder name (such as 2024-05-01-train), not a path: "
            "exports are written under the team's export folder."
        )
    root = cfg.export_root.resolve()
    target = (root / name).resolve()
    if not target.is_relative_to(root) or target == root:
        raise SettingError(
            f"Export folder {name!r} leads outside the team's export folder: give a plain folder name."
        )
    return target


def export_shown(folder: str | Path) -> str:
    """A written folder or file as a page names it: in team mode its place under the export root (a
    team's visitors have no business with the server's paths), in personal mode its path."""
    cfg = config()
    return str(Path(folder).relative_to(cfg.export_root.resolve()) if cfg.team else folder)


def export_folders() -> list[str]:
    """The exports under the export root (folders holding a manifest.json), newest first: what the Train
    page offers by name in team mode."""
    root = config().export_root
    found = [p.parent for p in root.glob("*/manifest.json")] if root.is_dir() else []
    return [p.name for p in sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)]


def export_default(stamp: str) -> str:
    """The folder the Export page offers: a name under the export root in team mode, else a path."""
    return stamp if config().team else str(settings.rnr_home() / "exports" / stamp)
