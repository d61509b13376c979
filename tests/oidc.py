"""Team mode behind a real OpenID Connect provider: the harness login tests and benchmarks share.

`team_app(db, tmp_path, roles)` starts `python -m oidc_provider_mock` and the app in team mode on free
loopback ports, with the operator's file (RNR_CONFIG) and a secrets.toml holding `[auth]`, both written
under `tmp_path`. `login(page, app, email)` logs a chromium page in as that person through the
provider's own form, as a user would: the provider issues a real ID token and Streamlit sets its
signed cookie. Each person needs their own browser context (the cookie is per context).

    with team_app(db, tmp_path, {"ana@example.com": "reviewer"}) as app, browser_page() as page:
        login(page, app, "ana@example.com")
        page.goto(f"{app.url}/review")
"""

import contextlib
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.browser import idle, listening, serve
from tests.conftest import free_port

# A team model nothing listens on: enough for pages that only name it; pass `models` to use a server.
NO_SERVER = {"name": "team-model", "base_url": "http://127.0.0.1:9/v1", "model": "smollm2"}
LOGIN_TIMEOUT_MS = 60_000


@dataclass(frozen=True)
class TeamApp:
    """A running team-mode app and what it was started with."""

    url: str  # the app, http://127.0.0.1:<port>
    provider: str  # the OIDC provider, http://127.0.0.1:<port>
    config: Path  # the operator's file (RNR_CONFIG)
    secrets: Path  # the secrets.toml with [auth]
    cookie_secret: str  # signs Streamlit's login cookie


def toml(value) -> str:
    """A TOML value for strings, numbers, booleans and lists of them (JSON's strings are TOML's)."""
    if isinstance(value, list):
        return "[" + ", ".join(toml(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if isinstance(value, str) else str(value)


def write_team_config(
    path: Path, roles: dict[str, str], models=(NO_SERVER,), export_root: Path | None = None, **more
) -> Path:
    """The operator's file for team mode: `roles` (e-mail or "@domain" -> role), `[[models]]` tables,
    the export root and any other top-level settings (`more`)."""
    lines = ['mode = "team"']
    if export_root is not None:
        lines.append(f"export_root = {toml(str(export_root))}")
    lines += [f"{name} = {toml(value)}" for name, value in more.items()]
    lines += ["[roles]", *(f"{toml(who)} = {toml(role)}" for who, role in roles.items())]
    for model in models:
        lines += ["[[models]]", *(f"{key} = {toml(value)}" for key, value in model.items())]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_auth(path: Path, provider: str, cookie_secret: str | None, **fields) -> Path:
    """A secrets.toml whose `[auth]` logs in through `provider`. The redirect URI's `{port}` is the app's
    port (Streamlit fills it in); `fields` replace or, given as None, leave out any of the settings."""
    auth = {
        "redirect_uri": "http://127.0.0.1:{port}/oauth2callback",
        "cookie_secret": cookie_secret,
        "client_id": "rnr-studio",
        "client_secret": "rnr-studio-secret",
        "server_metadata_url": f"{provider}/.well-known/openid-configuration",
        **fields,
    }
    body = "".join(f"{key} = {toml(value)}\n" for key, value in auth.items() if value is not None)
    path.write_text("[auth]\n" + body)
    return path


@contextlib.contextmanager
def provider(tmp_path: Path, *users: dict) -> Iterator[str]:
    """`python -m oidc_provider_mock` on a free loopback port; yields its URL. Anyone can log in by typing
    a subject (it becomes their e-mail too); `users` are claim sets ({"sub": ..., ...}) offered as well."""
    port = free_port()
    claims = [arg for user in users for arg in ("--user-claims", json.dumps(user))]
    args = ["oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port), *claims]
    with listening(tmp_path / f"oidc-{port}.log", port, *args):
        yield f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def team_app(
    db: Path,
    tmp_path: Path,
    roles: dict[str, str],
    *,
    models=(NO_SERVER,),
    export_root: Path | None = None,
    auth: dict | None = None,
    users=(),
    **env,
) -> Iterator[TeamApp]:
    """The app in team mode over the store at `db`, logging in through a fresh provider.

    `auth` replaces [auth] settings (a value of None leaves that one out); `users` are claim sets the
    provider offers besides typed subjects; `env` more environment variables for the app."""
    cookie_secret = secrets.token_hex(32)
    config = write_team_config(
        tmp_path / "rnr-config.toml", roles, models, export_root or tmp_path / "exports"
    )
    with provider(tmp_path, *users) as idp:
        secrets_toml = write_auth(tmp_path / "secrets.toml", idp, cookie_secret, **(auth or {}))
        with serve(db, tmp_path, "--secrets.files", str(secrets_toml), RNR_CONFIG=str(config), **env) as url:
            yield TeamApp(url, idp, config, secrets_toml, cookie_secret)


def login(page, app: TeamApp, email: str, path: str = "") -> None:
    """Log `page` in as `email` through the provider's form, then show `path` of the app, logged in.

    The page must hold no login yet (a fresh browser context): the app shows its login page, whose
    button leads to the provider; typing the subject there and authorizing returns to the app."""
    page.goto(f"{app.url}/{path}")
    idle(page)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{app.provider}/**", timeout=LOGIN_TIMEOUT_MS)
    page.locator("input[name=sub]").fill(email)
    page.get_by_role("button", name="Authorize", exact=True).click()
    page.wait_for_url(f"{app.url}/**", timeout=LOGIN_TIMEOUT_MS)
    if path:  # the provider returns to the app's home page
        page.goto(f"{app.url}/{path}")
    idle(page)
    # Listed people see it in the sidebar, unlisted ones on the no-access page.
    page.get_by_text(email, exact=False).first.wait_for(timeout=LOGIN_TIMEOUT_MS)


def logout(page, app: TeamApp) -> None:
    """Log out with the sidebar's button, ending the session at the provider too; back at the app."""
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{app.provider}/**", timeout=LOGIN_TIMEOUT_MS)
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(f"{app.url}/**", timeout=LOGIN_TIMEOUT_MS)
    idle(page)
