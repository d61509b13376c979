"""The Compare page's live demo form: a typed prompt, the contestants and their temperatures, blind or
not; Run keeps them (in a random left-to-right order when blind) for the answers to stream."""

import random
import secrets

import streamlit as st

from rnr_app import compare_models, login, state, widgets
from rnr_core.errors import RnrError
from rnr_core.evaluate.adhoc import Contestant, adhoc_item, label, rules_from_text
from rnr_core.models import finetunes

DEMO_SYSTEM = "You are a friendly museum guide. Answer in at most two sentences and never use lists."
DEMO_USER = "Why did people build pyramids?"
DEMO_RULES = "Answer in at most two sentences.\nDo not use bullet points or numbered lists."
TEMPERATURES = (0.0, 0.9, 0.5, 0.3)  # the defaults of slots 1, 2, ...: `local` can face itself at once
MAX_CONTESTANTS = 4
LIVE = "live"  # session key of the prompt on show: item, contestants, order, answers, verdicts, votes


def contestant_inputs(options: dict[str, str]) -> list[tuple[str, float]]:
    """One row per contestant: which model, at which temperature."""
    count = st.session_state.get("live_count", 2)
    keys, demo = list(options), finetunes.demo_pair(state.store(), options)
    pair = demo or keys
    # A fine-tune and its base start alike (greedy); otherwise `local` can face itself at once.
    temperatures = (0.0,) * MAX_CONTESTANTS if demo else TEMPERATURES
    picked = []
    for i in range(count):
        c = st.columns([3, 2])
        default = pair[i] if i < len(pair) else keys[min(i, len(keys) - 1)]
        key = c[0].selectbox(
            f"Contestant {i + 1}", keys, keys.index(default), format_func=options.get, key=f"live_model_{i}"
        )
        t = c[1].number_input(
            "Temperature", 0.0, 2.0, temperatures[i], 0.1, format="%.1f", key=f"live_temp_{i}"
        )
        picked.append((key, t))
    return picked


def contestant_count() -> None:
    """How many contestants (outside the form, so that the form redraws with that many rows)."""
    c = st.columns([1, 3])
    c[0].number_input("Contestants", 2, MAX_CONTESTANTS, 2, 1, key="live_count")


def prompt_form() -> None:
    """The typed prompt and the contestants; Run starts the answers streaming. Running models is for
    those who may vote on them: viewers read the leaderboard."""
    if not state.may("vote"):
        login.cannot("vote", "running the live demo and voting")
        return
    options = compare_models.choices()
    contestant_count()
    with st.form("live_form"):
        system = st.text_area("System prompt", DEMO_SYSTEM, height=80)
        user = st.text_area("User turn", DEMO_USER, height=80)
        rules = st.text_area("Rules to judge, one per line (optional)", DEMO_RULES, height=80)
        picked = contestant_inputs(options)
        c = st.columns(3)
        blind = c[0].toggle("Blind: hide the names until I vote", value=True)
        max_tokens = c[1].number_input("Max tokens per answer", 16, 2048, 160, 16)
        run = st.form_submit_button("Run", type="primary")
    if run:
        _start(system, user, rules, picked, options, blind, int(max_tokens))


def _start(system, user, rules, picked, options, blind: bool, max_tokens: int) -> None:
    """Check the prompt and build the contestants; keep them with a random left-to-right order."""
    try:
        state.acting("vote")  # asked at the click too: a role can change after the form was drawn
        item = adhoc_item(system, user, rules_from_text(rules))
        names = [options[key] for key, _ in picked]
        contestants = [
            Contestant(
                compare_models.spec_of(key),
                t,
                label(options[key], t, names.count(options[key]) > 1 or t != 0),
            )
            for key, t in picked
        ]
    except RnrError as exc:
        widgets.error(exc)
        return
    labels = [c.name for c in contestants]
    if len(set(labels)) < len(labels):
        widgets.error("Two contestants are the same model at the same temperature: change one.")
        return
    order = list(range(len(contestants)))
    if blind:  # a fresh random order per prompt, kept for this prompt's reruns and its votes
        random.Random(secrets.randbits(32)).shuffle(order)
    st.session_state[LIVE] = {
        "item": item,
        "contestants": contestants,
        "order": order,
        "blind": blind,
        "revealed": not blind,
        "max_tokens": max_tokens,
        "answers": None,
        "verdicts": None,
        "votes": {},
    }
