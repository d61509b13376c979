"""The live demo's answers side by side: streamed the first time, then as kept, each with the LLM judge's
verdict per typed rule. While blind, nothing on show names a contestant."""

import asyncio
import string

import streamlit as st

from rnr_app import review_parts, state, widgets
from rnr_app.compare_live import LIVE
from rnr_app.widgets import esc
from rnr_core.errors import RnrError
from rnr_core.evaluate.adhoc import judge_all, stream_answers
from rnr_core.judge import llm
from rnr_core.models.connection import use_model
from rnr_core.models.names import shown

BLIND_FAILURE = "This model failed to answer; its name and error are shown after the vote."


def shown_name(live: dict, slot: int) -> str:
    """What a side is called: 'Model A' while blind and not yet revealed, else its label."""
    contestant = live["contestants"][live["order"][slot]]
    if not live["revealed"]:
        return f"Model {string.ascii_uppercase[slot]}"
    prefix = f"Model {string.ascii_uppercase[slot]}: " if live["blind"] else ""
    return prefix + contestant.name


def answers() -> None:
    """The answers side by side, their verdict chips, and Judge again when some answer lacks verdicts."""
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
        live["verdicts"] = {}
        _judge(live)
    for slot, col in enumerate(cols):
        i = live["order"][slot]
        _answer(live, boxes[slot], live["answers"][i])
        with col:
            _chips(live["item"]["rules"], live["verdicts"].get(i))
    if live.get("judge"):
        review_parts.calibration_line(live["judge"])
    if missing(live) and st.button("Judge again", help="Ask the judge again about the answers it missed."):
        _judge(live)
        st.rerun()


def _answer(live: dict, box, answer) -> None:
    if not isinstance(answer, dict):
        box.text(answer or "(empty answer)")
    elif live["revealed"]:
        box.error(esc(shown(answer["error"])))
    else:  # an error can name the backend or the model file: not before the vote
        box.error(BLIND_FAILURE)


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


def missing(live: dict) -> list[int]:
    """The answers whose judging failed or left a rule unknown (none when no rules were typed)."""
    if not live["item"]["rules"]:
        return []
    got = live["verdicts"] or {}
    return [
        i
        for i, answer in live["answers"].items()
        if isinstance(answer, str)
        and (not isinstance(got.get(i), list) or any(v["verdict"] == "unknown" for v in got[i]))
    ]


def _judge(live: dict) -> None:
    """The sidebar's model judges every answer still missing verdicts, all at once; an answer whose
    judging fails keeps its error, the others their verdicts."""
    todo = missing(live)
    if not todo:
        return
    try:
        judge = use_model(state.model_settings()).spec
    except RnrError as exc:
        widgets.error(exc)
        return
    live["judge"] = llm.judge_name(judge)
    answers = {i: live["answers"][i] for i in todo}
    try:
        with st.spinner(f"The judge ({state.active_spec()}) reads the answers…"):
            got = asyncio.run(judge_all(state.store(), judge, live["item"], answers))  # the page's edge
    except RnrError as exc:
        widgets.error(exc)
        return
    for i, outcome in got.items():
        live["verdicts"][i] = {"error": outcome.says("app")} if isinstance(outcome, RnrError) else outcome


def _chips(rules: list[dict], verdicts) -> None:
    """A chip per rule (verdict and rule); the judge's error, or its reasons folded away below."""
    if isinstance(verdicts, dict):
        st.error(esc(f"The judge failed on this answer: {shown(verdicts['error'])}"))
        verdicts = []
    by_rule = {v["rule_id"]: v for v in verdicts or []}
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
