"""The gate every run passes before the app shows anything: who acts, or a page saying why nobody may.

A refused visitor sees only that page: no sidebar, no navigation, nothing from the store.
"""

import logging

import streamlit as st

from rnr_app import state, widgets
from rnr_app.admission import Refusal
from rnr_app.widgets import esc
from rnr_core import access
from rnr_core.access import Identity
from rnr_core.errors import Forbidden, RnrError

README = "the README's section 'Serving a team'"
# What the operator must fix goes to the server's log (the terminal that started it): a page any visitor
# can reach names no file, path or configured identity.
log = logging.getLogger("rnr_studio")


def gate(paths: list[str]) -> Identity:
    """The identity this run acts as; for a refused visitor, the page that says why, then stop.

    `paths` are the app's page addresses: each shows that page too, so that a link to one is answered
    the same way. There is no menu (a first visit's menu of the pages folder goes away too)."""
    found = state.admission()
    if isinstance(found, Refusal):

        def refused() -> None:
            PAGES[found.kind](found.detail)

        pages = [
            st.Page(refused, title="RNR Studio", url_path=path or None, default=not path) for path in paths
        ]
        st.navigation(pages, position="hidden").run()
        st.stop()
    return found


def _config(exc: RnrError) -> None:
    log.error("The operator's configuration cannot be used: %s", exc.says("cli"))
    st.title("RNR Studio cannot start")
    st.error(
        "The operator's configuration cannot be used, so nothing is shown. The server's log names the "
        "file and the entry to fix; 'rnr config check' shows it too."
    )


def _exposed(address: str | None) -> None:
    st.title("RNR Studio is in personal mode")
    where = f"the address {address}" if address else "every network address"
    st.warning(
        esc(
            "Personal mode is for one person on their own machine: there is no login, and anyone who reaches "
            f"the app could read every sample and spend the API key. This server listens on {where}, which "
            "other machines can reach, so it shows nothing."
        )
    )
    st.markdown(
        esc(
            'Serve it on this machine only (server.address = "127.0.0.1", as .streamlit/config.toml sets), '
            'or serve a team: set mode = "team" with roles and models in the operator\'s configuration file, '
            f"and login under [auth] in the secrets file; {README} shows how."
        )
    )


def _no_login(detail: tuple[list[str], str | None]) -> None:
    missing, unreadable = detail
    files = ", ".join(st.get_option("secrets.files"))
    log.error(
        "Team mode is on (%s) but the [auth] section of the secrets file (%s) lacks %s.%s",
        access.config().where(),
        files,
        ", ".join(missing),
        f" {unreadable}" if unreadable else "",
    )
    st.title("RNR Studio cannot start: team mode needs login")
    st.error(
        esc(
            f"Team mode is on but login is not configured: the [auth] section of the secrets file lacks "
            f"{', '.join(missing)}. Add them and restart the server (its log names the files it read); "
            f"{README} shows an example."
        )
    )


def _logged_out(_=None) -> None:
    st.title("RNR Studio")
    st.write("Log in to continue.")
    st.button("Log in", type="primary", on_click=st.login)


def _unlisted(who: str | None) -> None:
    st.title("No access")
    st.write(
        esc(
            f"You are logged in as {who or 'an account without an e-mail address'}, but this RNR Studio has "
            "no role for you. Ask its operator to add you, then log in again."
        )
    )
    st.button("Log out", on_click=st.logout)


PAGES = {
    "config": _config,
    "exposed": _exposed,
    "no_login": _no_login,
    "logged_out": _logged_out,
    "unlisted": _unlisted,
}


def account(identity: Identity) -> None:
    """The sidebar's account block in team mode: who is logged in, their role, and Log out."""
    st.caption(esc(f"Logged in as {identity.id} · {identity.role}"))
    st.button("Log out", key="logout", on_click=st.logout)


def cannot(action: str, doing: str) -> None:
    """The line a read-only view shows in place of its controls: this role may not do `doing`."""
    st.caption(esc(f"You are a {state.identity().role}: {doing} is for {access.who_may_text(action)}."))


def allowed(action: str) -> bool:
    """Whether the acting identity may do `action` now, asked at the moment it is done; if not, say why."""
    try:
        state.acting(action)
    except Forbidden as exc:
        widgets.error(exc)
        return False
    return True
