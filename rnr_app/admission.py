"""Who may use the app in this run: the acting identity, or why nobody may (no drawing here).

Personal mode admits the one person on this machine, and only while the server listens on loopback.
Team mode admits a login (Streamlit's OIDC, `st.user`) that the operator's file gives a role.
"""

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

import streamlit as st

from rnr_core import access
from rnr_core.access import Identity
from rnr_core.errors import RnrError


@dataclass(frozen=True)
class Refusal:
    """Why this visitor may not use the app: `kind` names the page that says so (rnr_app/login.py)."""

    kind: str  # "config", "exposed", "no_login", "logged_out" or "unlisted"
    detail: object = None


def loopback(address: str | None) -> bool:
    """Whether a server bound to `address` is reachable from this machine only (none: every interface)."""
    address = (address or "").strip().strip("[]").lower()
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:  # empty (every interface) or a host name, which may resolve to anything
        return False


def login_settings() -> tuple[dict, str | None]:
    """Streamlit's `[auth]` settings, and why the secrets could not be read (None when they could)."""
    try:
        auth = st.secrets.get("auth")
    except FileNotFoundError as exc:  # no secrets file, or one that is not valid TOML
        return {}, str(exc)
    return (dict(auth) if isinstance(auth, Mapping) else {}), None


def admit(personal_name: str | None) -> Identity | Refusal:
    """Who acts in this run (`personal_name`: the sidebar's reviewer name in personal mode), or why
    nobody may."""
    try:
        team = access.config().team
    except RnrError as exc:
        return Refusal("config", exc)
    if not team:
        if not loopback(st.get_option("server.address")):
            return Refusal("exposed", st.get_option("server.address"))
        return access.personal_identity(personal_name)
    auth, unreadable = login_settings()
    missing = access.missing_login(auth)
    if missing:
        return Refusal("no_login", (missing, unreadable))
    user = st.user.to_dict()
    if user.get("is_logged_in") is not True:
        return Refusal("logged_out")
    found = access.login_identity(user.get("email"), user.get("email_verified"))
    return found or Refusal("unlisted", user.get("email") or user.get("sub"))
