"""The Compare page's live demo: a typed prompt, contestants side by side as they stream, the LLM judge's
verdict per rule, and a vote (blind: the names show only after it)."""

import asyncio
import random
import secrets
import string

import streamlit as st

from rnr_app import compare_charts, login, review_parts, state, widgets
from rnr_app.widgets import esc
from rnr_core import access
from rnr_core.errors import RnrError
from rnr_core.evaluate.adhoc import (
    Contestant,
    adhoc_item,
    judge_adhoc,
    label,
    rules_from_text,
    stream_answers,
)
from rnr_core.judge import llm
from rnr_core.models.connection import team_model_settings, use_model

DEMO_SYSTEM = "You are a friendly museum guide. Answer in at most two sentences and never use lists."
DEMO_USER = "Why did people build pyramids?"
DEMO_RULES = "Answer in at most two sentences.\nDo not use bullet points or numbered lists."
TEMPERATURES = (0.0, 0.9, 0.5, 0.3)  # the defaults of slots 1, 2, ...: `local` can face itself at once
MAX_CONTESTANTS = 4
VOTES = {"A": "a", "B": "b", "Tie": "tie", "Both bad": "both_bad"}
BUTTON_WIDTHS = [1, 1, 1, 1.3, 5]  # the four vote buttons close together, on the left
LIVE = "live"  # session key of the prompt on show: item, contestants, order, answers, verdicts, vote


def choices() -> dict[str, str]:
    """The models this person may put in: key -> the name shown. The embedded model always; in personal
    mode the sidebar's model, in team mode the operator's models by name."""
    found = {"local": "local"}
    if state.team():
        found.update({f"team:{name}": name for name in access.config().models})
    elif (shown := state.active_spec()) != "local" and not shown.startswith("not set"):
        found["sidebar"] = shown
    return found


def spec_of(key: str) -> str:
    """The spec a choice runs as; a sidebar or team model is built and served under its spec first."""
    if key == "sidebar":
        return use_model(state.model_settings()).spec
    if key.startswith("team:"):
        return use_model(team_model_settings(key.removeprefix("team:"))).spec
    return key


def contestant_inputs(options: dict[str, str]) -> list[tuple[str, float]]:
    """One row per contestant: which model, at which temperature."""
    count = st.session_state.get("live_count", 2)
    picked = []
    for i in range(count):
        c = st.columns([3, 2])
        keys = list(options)
        default = keys[min(i, len(keys) - 1)] if i else keys[0]
        key = c[0].selectbox(
            f"Contestant {i + 1}", keys, keys.index(default), format_func=options.get, key=f"live_model_{i}"
        )
        t = c[1].number_input(
            "Temperature", 0.0, 2.0, TEMPERATURES[i], 0.1, format="%.1f", key=f"live_temp_{i}"
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
    options = choices()
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
        item = adhoc_item(system, user, rules_from_text(rules))
        names = [options[key] for key, _ in picked]
        contestants = [
            Contestant(spec_of(key), t, label(options[key], t, names.count(options[key]) > 1 or t != 0))
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
    if blind:  # a fresh random order per prompt, kept for this prompt's reruns and its vote
        random.Random(secrets.randbits(32)).shuffle(order)
    st.session_state[LIVE] = {
        "item": item,
        "contestants": contestants,
        "order": order,
        "blind": blind,
        "max_tokens": max_tokens,
        "answers": None,
        "verdicts": None,
        "voted": None,
    }


def shown_name(live: dict, slot: int) -> str:
    """What a side is called: 'Model A' while blind and not yet voted on, else its label."""
    contestant = live["contestants"][live["order"][slot]]
    if live["blind"] and not live["voted"]:
        return f"Model {string.ascii_uppercase[slot]}"
    prefix = f"Model {string.ascii_uppercase[slot]}: " if live["blind"] else ""
    return prefix + contestant.name


def answers() -> None:
    """The answers side by side: streamed the first time, then as kept, with verdict chips per rule."""
    live = st.session_state.get(LIVE)
    if not live:
        return
    cols = st.columns(len(live["order"]))
    boxes = []
    for slot, col in enumerate(cols):
        col.subheader(esc(shown_name(live, slot)))
        boxes.append(col.empty())
    if live["answers"] is None:
        live["answers"] = _stream(live, boxes)
    if live["verdicts"] is None:
        live["verdicts"] = _judge(live)
    for slot, col in enumerate(cols):
        i = live["order"][slot]
        _answer(boxes[slot], live["answers"][i])
        with col:
            _chips(live["item"]["rules"], live["verdicts"].get(i, []))
    if live.get("judge"):
        review_parts.calibration_line(live["judge"])


def _answer(box, answer) -> None:
    if isinstance(answer, dict):
        box.error(esc(answer["error"]))
    else:
        box.text(answer or "(empty answer)")


def _stream(live: dict, boxes) -> dict:
    """Stream every contestant at once, each into its own box; a failure is kept as that side's error."""
    got: dict[int, object] = {i: "" for i in range(len(live["contestants"]))}
    slot_of = {i: slot for slot, i in enumerate(live["order"])}

    async def drive() -> None:
        async for i, chunk in stream_answers(live["contestants"], live["item"], live["max_tokens"]):
            if isinstance(chunk, RnrError):
                got[i] = {"error": chunk.says("app")}
            elif isinstance(got[i], str):
                got[i] += chunk
                boxes[slot_of[i]].text(got[i])

    for box in boxes:
        box.caption("Waiting for its turn…")
    asyncio.run(drive())  # the page's edge, as the sidebar's connection check
    return got


def _judge(live: dict) -> dict:
    """The sidebar's model judges each answer on the typed rules (none typed: nothing to judge)."""
    if not live["item"]["rules"]:
        return {}
    try:
        judge = use_model(state.model_settings()).spec
    except RnrError as exc:
        widgets.error(exc)
        return {}
    store, verdicts = state.store(), {}
    live["judge"] = llm.judge_name(judge)
    try:
        with st.spinner(f"The judge ({state.active_spec()}) reads each answer…"):
            for i, answer in live["answers"].items():
                if isinstance(answer, str):
                    verdicts[i] = asyncio.run(judge_adhoc(store, judge, live["item"], answer))
    except RnrError as exc:
        widgets.error(exc)
    return verdicts


def _chips(rules: list[dict], verdicts: list[dict]) -> None:
    """A chip per rule (verdict and rule); the judge's reasons folded away below."""
    by_rule = {v["rule_id"]: v for v in verdicts}
    for rule in rules:
        v = by_rule.get(rule["id"])
        colour = widgets.VERDICT_COLOURS.get(v["verdict"], "gray") if v else "gray"
        st.badge(esc(f"{v['verdict'] if v else 'not judged'} · {rule['text']}"), color=colour)
    reasons = [(rule["text"], by_rule[rule["id"]]["rationale"]) for rule in rules if rule["id"] in by_rule]
    if any(why for _, why in reasons):
        with st.expander("The judge's reasons"):
            for text, why in reasons:
                st.caption(esc(text))
                st.text(why or "(none given)")


def vote_buttons() -> None:
    """A, B, Tie or Both bad on the first two sides (or a chosen pair); names show after the vote."""
    live = st.session_state.get(LIVE)
    if not live or live["answers"] is None:
        return
    if live["voted"]:
        st.success(esc(f"Vote recorded: {live['voted']}. The names are shown above."))
        return
    if not state.may("vote"):
        return  # the form's place already says why
    pair = _pair(live)
    st.markdown("**Which answer is better?**")
    c = st.columns(BUTTON_WIDTHS)
    for col, (text, winner) in zip(c, VOTES.items()):
        if col.button(text, key=f"vote-{text}", width="stretch"):
            _vote(live, pair, winner)
            st.rerun()


def _pair(live: dict) -> tuple[int, int]:
    """The two sides a vote is about: A and B, or the pair picked when there are more."""
    n = len(live["order"])
    if n == 2:
        return 0, 1
    letters = string.ascii_uppercase[:n]
    pairs = [(a, b) for a in range(n) for b in range(a + 1, n)]
    return st.selectbox(
        "Vote on", pairs, format_func=lambda p: f"{letters[p[0]]} against {letters[p[1]]}", key="live_pair"
    )


def _vote(live: dict, pair: tuple[int, int], winner: str) -> None:
    from rnr_core.evaluate.compare import record_vote

    a, b = (live["order"][slot] for slot in pair)
    answer_a, answer_b = live["answers"][a], live["answers"][b]
    if not (isinstance(answer_a, str) and isinstance(answer_b, str)):
        widgets.error("One of these models failed to answer: there is nothing to vote on.")
        return
    try:
        record_vote(
            state.store(),
            benchmark=None,
            item_key=live["item"]["item_key"],
            item=live["item"],
            model_a=live["contestants"][a].name,
            model_b=live["contestants"][b].name,
            response_a=answer_a,
            response_b=answer_b,
            winner=winner,
            voter=state.acting("vote"),
            blind=live["blind"],
        )
    except RnrError as exc:
        widgets.error(exc)
        return
    said = {"a": f"{live['contestants'][a].name} wins", "b": f"{live['contestants'][b].name} wins"}
    live["voted"] = said.get(winner, winner.replace("_", " "))


def live_board() -> None:
    """Every vote so far, people's and LLM judges', as one leaderboard."""
    from rnr_core.evaluate.compare import leaderboard

    st.subheader("Leaderboard")
    try:
        board = leaderboard(state.store(), None)
    except RnrError as exc:
        widgets.error(exc)
        return
    compare_charts.leaderboard(board, "live")
