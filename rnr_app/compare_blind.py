"""Blind votes on a benchmark's stored answers: two models' answers to one item at a time, sides at
random, each (item, pair) served once per voter; the names show after the vote."""

import random

import streamlit as st

from rnr_app import compare_vote, login, state, widgets
from rnr_app.widgets import esc
from rnr_core.errors import RnrError
from rnr_core.evaluate import summary
from rnr_core.models.names import shown

BLIND = "bench_blind"  # session key: the pair, the item on show, its random sides, and the vote
ALL_VOTED = "You have voted on every item of this pair."


def blind_votes(store, name: str, models: list[str], names: dict[str, str]) -> None:
    """The next item of the chosen pair this voter has not voted on; says so when none is left."""
    if len(models) < 2:
        st.caption("Evaluate at least two models on this benchmark to vote on their answers.")
        return
    if not state.may("vote"):
        login.cannot("vote", "voting")
        return
    shown_as = lambda spec: names.get(spec, shown(spec))  # noqa: E731
    c = st.columns(2)
    a = c[0].selectbox("First model", models, key="bench_a", format_func=shown_as)
    b = c[1].selectbox("Second model", [m for m in models if m != a], key="bench_b", format_func=shown_as)
    pairs = _pairs(store.path, store.compare_token(), name, a, b)
    if not pairs:
        st.info("These two models have no answered item in common.")
        return
    voted = store.voted_items(store.benchmark_row(name)["id"], state.identity().id, a, b)
    on_show = _current(name, a, b, [k for k in pairs if k not in voted])
    if on_show is None:
        st.success(ALL_VOTED + f" ({len(pairs):,} items.)")
        return
    item = pairs[on_show["item_key"]]
    st.caption(esc(f"{len(pairs) - len(voted):,} of {len(pairs):,} items left to vote on for this pair"))
    st.text(f"System prompt: {item['system_prompt'] or '(none)'}")
    widgets.conversation(item["messages"])
    sides = [(a, item["response_a"]), (b, item["response_b"])][:: -1 if on_show["swap"] else 1]
    cols = st.columns(2)
    for letter, col, (model, text) in zip("AB", cols, sides):
        col.markdown(f"**Model {letter}**" + (esc(f": {shown_as(model)}") if on_show["voted"] else ""))
        col.text(text)
    _vote_row(name, item, on_show, sides, shown_as)


@st.cache_data(max_entries=8, show_spinner=False)
def _pairs(path: str, token: tuple, name: str, a: str, b: str) -> dict[str, dict]:
    """Both models' stored answers by item, read again only when evaluations or votes change (`token`):
    a vote or Next item reruns the page, and the answers stay the same."""
    return {p["item_key"]: p for p in summary.answer_pairs(state.store(), name, a, b)}


def _current(name: str, a: str, b: str, unvoted: list[str]) -> dict | None:
    """The item on show for this pair, kept across reruns (also once voted on, until Next item); else
    the first item not yet voted on, or None when there is none."""
    on_show = st.session_state.get(BLIND)
    if on_show and on_show["key"] == (name, a, b) and on_show["item_key"]:
        return on_show
    if not unvoted:
        return None
    on_show = {"key": (name, a, b), "item_key": unvoted[0], "swap": random.random() < 0.5, "voted": None}
    st.session_state[BLIND] = on_show
    return on_show


def _vote_row(name: str, item: dict, on_show: dict, sides: list[tuple[str, str]], shown_as) -> None:
    if on_show["voted"]:
        c = st.columns([3, 1])
        c[0].success(esc(f"Vote recorded: {on_show['voted']}."))
        if c[1].button("Next item", type="primary"):
            on_show["item_key"] = None  # the next one not voted on
            st.rerun()
        return
    c = st.columns(compare_vote.BUTTON_WIDTHS)
    for col, (text, winner) in zip(c, compare_vote.VOTES.items()):
        if col.button(text, key=f"bench-vote-{text}", width="stretch"):
            if _vote(name, item, on_show, sides, winner, shown_as):
                st.rerun()  # only once stored: a refusal stays on show


def _vote(name: str, item: dict, on_show: dict, sides, winner: str, shown_as) -> bool:
    from rnr_core.evaluate.compare import record_vote

    try:
        record_vote(
            state.store(),
            benchmark=name,
            item_key=item["item_key"],
            item=None,
            model_a=sides[0][0],
            model_b=sides[1][0],
            response_a=sides[0][1],
            response_b=sides[1][1],
            winner=winner,
            voter=state.acting("vote"),  # the policy is asked at the click, not only when drawn
            blind=True,
        )
    except RnrError as exc:
        widgets.error(exc)
        return False
    said = {"a": f"{shown_as(sides[0][0])} wins", "b": f"{shown_as(sides[1][0])} wins"}
    on_show["voted"] = said.get(winner, winner.replace("_", " "))
    return True
