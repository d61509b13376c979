"""The live demo's vote: A, B, Tie or Both bad on each pair of answers, once per pair; while blind the
names show only once every pair has its vote (or the voter asks), and then the leaderboard of all votes."""

import string

import streamlit as st

from rnr_app import compare_board, compare_models, state, widgets
from rnr_app.compare_live import LIVE
from rnr_app.widgets import esc
from rnr_core.errors import RnrError

VOTES = {"A": "a", "B": "b", "Tie": "tie", "Both bad": "both_bad"}
BUTTON_WIDTHS = [1, 1, 1, 1.3, 5]  # the four vote buttons close together, on the left


def _letters(pair: tuple[int, int]) -> str:
    return f"{string.ascii_uppercase[pair[0]]} against {string.ascii_uppercase[pair[1]]}"


def _on(live: dict, pair: tuple[int, int]) -> str:
    return f" on {_letters(pair)}" if len(live["order"]) > 2 else ""


def _said(live: dict, pair: tuple[int, int], winner: str) -> str:
    """The vote in words: the winning side's letter, with its name once names show."""
    if winner not in ("a", "b"):
        return winner.replace("_", " ")
    slot = pair[0] if winner == "a" else pair[1]
    name = f" ({live['contestants'][live['order'][slot]].name})" if live["revealed"] else ""
    return f"{string.ascii_uppercase[slot]} wins{name}"


def votable(live: dict) -> list[tuple[int, int]]:
    """The pairs of sides (slots) where both answered: what can be voted on."""
    ok = [slot for slot, i in enumerate(live["order"]) if isinstance(live["answers"][i], str)]
    return [(a, b) for a in ok for b in ok if a < b]


def vote_buttons() -> None:
    """The vote on the next pair not yet voted on; once every pair has one (or on request), the names."""
    live = st.session_state.get(LIVE)
    if not live or live["answers"] is None:
        return
    for pair, winner in live["votes"].items():
        st.success(esc(f"Vote recorded{_on(live, pair)}: {_said(live, pair, winner)}."))
    left = [p for p in votable(live) if p not in live["votes"]]
    if live["votes"] and live["blind"] and live["revealed"]:
        st.caption("The names are shown above.")
    if not votable(live):
        st.caption("Fewer than two models answered: there is nothing to vote on.")
    if not left or live["revealed"] and live["blind"]:
        return
    if not state.may("vote"):
        return  # the form's place already says why
    pair = left[0] if len(left) == 1 else st.selectbox("Vote on", left, format_func=_letters, key="live_pair")
    st.markdown("**Which answer is better?**" + (f" ({_letters(pair)})" if len(live["order"]) > 2 else ""))
    c = st.columns(BUTTON_WIDTHS)
    for col, (text, winner) in zip(c, VOTES.items()):
        if col.button(text, key=f"vote-{text}", width="stretch"):
            if _vote(live, pair, winner):
                st.rerun()  # only once stored: a refusal stays on show
    if live["blind"] and live["votes"] and st.button("Show the names now", key="live_reveal"):
        live["revealed"] = True
        st.rerun()


def _vote(live: dict, pair: tuple[int, int], winner: str) -> bool:
    from rnr_core.evaluate.compare import record_vote

    a, b = (live["order"][slot] for slot in pair)
    try:
        record_vote(
            state.store(),
            benchmark=None,
            item_key=live["item"]["item_key"],
            item=live["item"],
            model_a=live["contestants"][a].name,
            model_b=live["contestants"][b].name,
            response_a=live["answers"][a],
            response_b=live["answers"][b],
            winner=winner,
            voter=state.acting("vote"),  # the policy is asked at the click, not only when drawn
            blind=live["blind"],
        )
    except RnrError as exc:
        widgets.error(exc)
        return False
    live["votes"][pair] = winner
    if all(p in live["votes"] for p in votable(live)):
        live["revealed"] = True  # every pair has its vote: the names can show
    return True


def live_board() -> None:
    """Every ad-hoc vote so far, people's and LLM judges', as one leaderboard."""
    from rnr_core.evaluate.compare import leaderboard

    st.subheader("Leaderboard")
    try:
        board = leaderboard(state.store(), None)
    except RnrError as exc:
        widgets.error(exc)
        return
    compare_board.leaderboard(board, "live", compare_models.names_of(board["models"]))
