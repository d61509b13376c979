"""The words for a run's state, shared by every view of it (pure: a RunState in, text out).

Items are units of model work, a system prompt or one response; samples are the responses kept.
Each view shows the same numbers in the same words, and an edge ('cli' or 'app') names its own
controls in the advice.
"""

from rnr_core.hints import Hint, hint_text
from rnr_core.review import plural
from rnr_core.runs import Failure, Items, RunState

ITEMS_EXPLAINED = (
    "An item is one piece of model work: a system prompt, or one response to a user turn. Each "
    "response done is a sample; the responses of a failed system prompt are not tried."
)
STATUS_MEANS = {
    "running": "generating now",
    "completed": "every item done",
    "failed": "ended with items not done",
    "cancelled": "cancelled before finishing; finished work is kept",
    "stopped": "stopped before finishing, when the app or command running it ended; finished work is kept",
}
STAGE_NOUNS = {"system_prompt": ("system prompt", "system prompts"), "response": ("response", "responses")}

# Reason codes of failed items (the parser's, the quality gate's, or a failed call): a category
# and what the reason means.
GATE, OUTPUT, CALL = "refused by the quality gate", "got unusable replies", "the model call failed"
REASONS: dict[str, tuple[str, str]] = {
    "placeholder": (GATE, "a placeholder such as [Your role] where content belongs"),
    "ellipsis": (GATE, "'...' standing for content"),
    "role_too_short": (GATE, "a role that does not say who the assistant is"),
    "duplicate_rule": (GATE, "the same rule twice"),
    "contradictory_rules": (GATE, "rules that contradict each other"),
    "not_json": (OUTPUT, "a reply that is not JSON"),
    "schema": (OUTPUT, "a reply that does not have the asked-for fields"),
    "blank": (OUTPUT, "a blank role or rule"),
    "empty": (OUTPUT, "an empty response"),
    "call": (CALL, "no reply"),
    "unknown": ("failed", "no try of it is logged"),
}
# What to change, per category, in each edge's words.
ADVICE: dict[str, Hint] = {
    GATE: Hint(
        "The quality gate needs a capable model: use a stronger one (--model), or --quality-gate off "
        "for a small one such as 'local'.",
        "The quality gate needs a capable model: pick a stronger one in the sidebar's Model settings, "
        "or set 'Quality gate' to Off (Auto turns it off for the embedded model).",
    ),
    OUTPUT: Hint(
        "Raise --max-retries, or use a stronger model (--model).",
        "Raise 'Retries', or pick a stronger model in the sidebar's Model settings.",
    ),
    CALL: Hint(
        "Check that the model's server is up and its spec is right.",
        "Check the sidebar's Model settings ('Test connection' tries them).",
    ),
}
RESUME = Hint("Resume with: rnr generate --resume {run_id}", "Press 'Resume run' to {what}.")


def noun(stage: str, count: int) -> str:
    one, many = STAGE_NOUNS.get(stage, (stage, stage))
    return plural(count, one, many)


def items_line(items: Items, running: bool) -> str:
    """'6 of 10 items done, 2 failed, 2 not tried' (while running: '2 to do')."""
    left = f"{items.left:,} to do" if running else f"{items.left:,} not tried"
    return f"{items.done:,} of {items.total:,} items done, {items.failed:,} failed, {left}"


def pace(state: RunState) -> str:
    """Rate and time left, only while the run is running and a rate is known."""
    if not state.running or not state.rate:
        return ""
    eta = f", about {duration(state.eta_s)} left" if state.eta_s is not None else ""
    return f"{state.rate:.2f} items/s{eta}"


def duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def summary(state: RunState) -> str:
    """One line: samples made, items by outcome, and pace while running."""
    parts = [f"{state.samples:,} samples", items_line(state.items, state.running), pace(state)]
    return " · ".join(p for p in parts if p)


def headline(state: RunState) -> str:
    """'run-…: failed (ended with items not done)'."""
    return f"{state.id}: {state.status} ({STATUS_MEANS.get(state.status, state.status)})"


def picker_label(state: RunState) -> str:
    """How a run is listed where one is picked: only what never changes. A browser keeps showing
    the label an option had when it was picked, so a status or a count here would go stale; the
    run's status and counts are shown beside the picker instead."""
    started = f" · started {state.created_at:%Y-%m-%d %H:%M}" if state.created_at else ""
    started += f" by {state.started_by}" if state.started_by else ""
    return f"{state.id} · {state.dataset} · {state.model}{started}"


def table_row(state: RunState) -> dict:
    """A run as one row of a table of runs."""
    items = state.items
    return {
        "run": state.id,
        "dataset": state.dataset,
        "model": state.model,
        "status": state.status,
        "samples": state.samples,
        "items": items.total,
        "items done": items.done,
        "items failed": items.failed,
        "items not tried": items.left,
        "created": state.created_at,
        "started by": state.started_by,
    }


def failure_line(f: Failure) -> str:
    """'6 system prompts refused by the quality gate: '...' standing for content'; a failed call
    says what the model or its server answered."""
    category, meaning = REASONS.get(f.reason, ("failed", f.reason))
    if category == CALL:
        return f"{noun(f.stage, f.count)}: {CALL}: {f.example or meaning}"
    return f"{noun(f.stage, f.count)} {category}: {meaning}"


def failure_lines(state: RunState, edge: str, most: int = 3) -> list[str]:
    """What went wrong, most common first, then what to change and whether resuming helps."""
    lines = [failure_line(f) for f in state.failures[:most]]
    if len(state.failures) > most:
        rest = sum(f.count for f in state.failures[most:])
        lines.append(f"{rest:,} more item(s) failed for other reasons")
    # The run's own error adds to the items' reasons when it is all there is, or carries a fix.
    if state.error and (not state.failures or state.error_hint):
        lines.append(error_text(state, edge))
    blocked = state.stages.get("response", Items()).left
    if state.status == "failed" and blocked and state.stages.get("system_prompt", Items()).failed:
        lines.append(f"{noun('response', blocked)} not tried, because their system prompt failed")
    categories = dict.fromkeys(REASONS.get(f.reason, ("", ""))[0] for f in state.failures)
    lines += [ADVICE[c].text(edge) for c in categories if c in ADVICE]
    return lines


def error_text(state: RunState, edge: str) -> str:
    fix = hint_text(state.error_hint, edge)
    return f"{state.error} {fix}" if fix else str(state.error)


def next_step(state: RunState, edge: str) -> str:
    """Resume advice, only when resuming can get more done."""
    if not state.retry_helps:
        if state.status == "failed":
            return (
                "Resuming would likely fail the same way: change what is suggested above, "
                "then start a new run."
            )
        return ""
    what = "retry the failed items with fresh seeds and do the rest" if state.items.failed else "finish it"
    return RESUME.text(edge, run_id=state.id, what=what)


def item_label(item: dict) -> str:
    """A failed item: key, stage, and how many replies it got ('no reply' when the call failed)."""
    one, _ = STAGE_NOUNS.get(item["stage"], (item["stage"], ""))
    replies = item["attempts"]
    got = "no reply" if not replies else f"{replies} repl{'y' if replies == 1 else 'ies'}, none usable"
    return f"{item['item_key']} · {one} · {got}"
