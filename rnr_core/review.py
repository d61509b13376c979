"""Review vocabulary and edits, pure: reject reasons, queue filters, diffs and validation of an edit."""

import difflib
from dataclasses import dataclass

from rnr_core.errors import ReviewError
from rnr_core.rules import CATEGORIES, build
from rnr_core.stats import FREE_FORM

REJECT_REASONS = {
    "rule_broken": "Rule broken",
    "wrong_role": "Wrong role",
    "unsafe": "Unsafe",
    "low_quality": "Low quality",
    "duplicate": "Duplicate",
    "other": "Other",
}
# What each review action sets the sample's status to (with several reviewers per sample, once enough
# of them agree; see rnr_core/store/decisions.py).
REVIEW_ACTIONS = {"accept": "accepted", "reject": "rejected", "reset": "pending"}
# An adjudicator's ruling on a sample whose reviewers disagree: what it decides, and its status.
RULINGS = {"accept": "accepted", "reject": "rejected"}
# The tasks that can ask several people to label each item: a sample's review, a verdict's audit.
TASKS = {"review": "review of each sample", "audit": "human label of each audited verdict"}
MAX_LABELS_PER_ITEM = 10
# Who decided a sample reviewed before reviewers were recorded (the CLI once set a status with none): a name
# no person can be given (clean_name refuses it), so their decision counts but is nobody's.
UNRECORDED = "(unrecorded)"
VERDICT_FILTERS = {
    "any_failed": "Any rule failed",
    "judge_unsure": "Judge unsure",
    "disagree": "Checker and judge disagree",
}
MESSAGE_ROLES = ("user", "assistant")
EXCERPT_CHARS = 160


@dataclass(frozen=True)
class QueueFilter:
    """What the review queue shows; None (or a blank string) leaves a field unfiltered.

    rule_kind is a rule kind id or "free-form"; verdict one of VERDICT_FILTERS; search is plain
    text matched anywhere (case-insensitive) in the conversation, system prompt or response;
    open_for a reviewer's name (their own queue when several people review each sample).
    """

    status: str | None = None
    dataset: str | None = None
    run_id: str | None = None
    rule_kind: str | None = None
    category: str | None = None
    verdict: str | None = None
    reviewer: str | None = None
    search: str | None = None
    # Only samples this person has not decided yet, that fewer than the review's labels per item have.
    open_for: str | None = None

    def __post_init__(self):
        if self.verdict and self.verdict not in VERDICT_FILTERS:
            raise ReviewError(
                f"Unknown verdict filter {self.verdict!r}; use one of {', '.join(VERDICT_FILTERS)}."
            )


def plural(n: int, noun: str, many: str | None = None) -> str:
    """A count with its noun in the right number, thousands separated: "1 sample", "2,000 samples"."""
    return f"{n:,} {noun if n == 1 else many or noun + 's'}"


def excerpt(messages: list[dict], limit: int = EXCERPT_CHARS) -> str:
    """The last user message on one line, cut to `limit` characters."""
    last = next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")
    text = " ".join(str(last).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def diff_text(old: str, new: str, label: str = "text") -> str:
    """A unified diff of two texts, line by line; empty when they are equal."""
    lines = difflib.unified_diff(
        old.splitlines(),
        new.splitlines(),
        fromfile=f"{label} (before)",
        tofile=f"{label} (after)",
        lineterm="",
    )
    return "\n".join(lines)


def rules_text(rules: list[dict]) -> str:
    """One line per rule: id, category (and checker kind), text."""
    return "\n".join(
        f"{r['id']} [{r['category']}{', ' + r['kind'] if r.get('kind') else ''}] {r['text']}" for r in rules
    )


def messages_text(messages: list[dict]) -> str:
    return "\n".join(f"[{m['role']}] {m['content']}" for m in messages)


# The parts of a sample a revision holds, each with its label and how it reads as text.
_PARTS = (
    ("role", "Role", str),
    ("rules", "Rules", rules_text),
    ("system_prompt", "System prompt", str),
    ("messages", "Conversation", messages_text),
    ("response", "Response", str),
)


def revision_diff(old_rev: dict, new_rev: dict) -> str:
    """The unified diffs of every part that changed between two revisions (or sample states)."""

    def label(name: str, rev: dict) -> str:
        return f"{name}, revision {rev['revision']}" if rev.get("revision") is not None else name

    diffs = []
    for key, name, as_text in _PARTS:
        old, new = as_text(old_rev[key]), as_text(new_rev[key])
        if old != new:
            lines = difflib.unified_diff(
                old.splitlines(),
                new.splitlines(),
                fromfile=label(name, old_rev),
                tofile=label(name, new_rev),
                lineterm="",
            )
            diffs.append("\n".join(lines))
    return "\n".join(diffs)


def clean_name(name, field: str = "reviewer") -> str:
    """A non-blank person's name, stripped."""
    if not isinstance(name, str) or not name.strip():
        raise ReviewError(f"The {field} name is blank; enter your name (the sidebar's Reviewer field) first.")
    if name.strip() == UNRECORDED:
        raise ReviewError(
            f"The {field} name {UNRECORDED!r} is reserved for reviews recorded without a name; use your own."
        )
    return name.strip()


def clean_text(value, field: str) -> str:
    """A non-blank text field, stripped of surrounding whitespace."""
    if not isinstance(value, str) or not value.strip():
        raise ReviewError(f"The {field} is blank; write the {field} or leave it unchanged.")
    return value.strip()


def clean_messages(messages) -> list[dict]:
    """A conversation of {role, content} turns with user/assistant roles, ending with the user."""
    if not isinstance(messages, list) or not messages:
        raise ReviewError("messages must be a non-empty list of {role, content} turns.")
    out = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or set(m) != {"role", "content"}:
            raise ReviewError(f"messages[{i}] must be an object with exactly 'role' and 'content'.")
        if m["role"] not in MESSAGE_ROLES:
            raise ReviewError(
                f"messages[{i}].role is {m['role']!r}; use one of {', '.join(MESSAGE_ROLES)} "
                "(the system prompt is edited through the role and rules)."
            )
        out.append({"role": m["role"], "content": clean_text(m["content"], f"messages[{i}].content")})
    if out[-1]["role"] != "user":
        raise ReviewError("messages must end with a user turn: the response answers it.")
    return out


def clean_rules(rules, previous: list[dict]) -> list[dict]:
    """Rule records from an edited list: checked text, category and kind, ids kept or assigned.

    A verifiable rule whose text was edited but whose kind and kwargs were not becomes free-form:
    its checker would otherwise test a constraint the text no longer states.
    """
    if not isinstance(rules, list) or not rules:
        raise ReviewError("rules must be a non-empty list; a system prompt needs at least one rule.")
    before = {r["id"]: r for r in previous}
    # New rules get ids unused by the rules sent or the ones they replace.
    used = {r.get("id") for r in rules if isinstance(r, dict)} | set(before)
    fresh = (f"r{n}" for n in range(1, len(used) + len(rules) + 2) if f"r{n}" not in used)
    out, seen = [], set()
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict):
            raise ReviewError(f"rules[{i}] must be an object with text and category.")
        rid = rule.get("id") or next(fresh)
        if rid in seen:
            raise ReviewError(f"rules[{i}] repeats the id {rid!r}; each rule needs its own id.")
        seen.add(rid)
        out.append(_clean_rule(rule, rid, i, before.get(rid)))
    return out


def _clean_rule(rule: dict, rid: str, i: int, old: dict | None) -> dict:
    text = clean_text(rule.get("text"), f"text of rules[{i}]")
    category = rule.get("category")
    if category not in CATEGORIES:
        raise ReviewError(f"rules[{i}].category is {category!r}; use one of {', '.join(CATEGORIES)}.")
    kind, kwargs = rule.get("kind") or None, rule.get("kwargs")
    if kind == FREE_FORM:
        kind = None
    if kind and old and text != old["text"] and (kind, kwargs) == (old.get("kind"), old.get("kwargs")):
        kind = None
    if kind:
        build(kind, kwargs, where=f"rules[{i}]")  # refuses an unknown kind or bad kwargs
    return {"id": rid, "text": text, "category": category, "kind": kind, "kwargs": kwargs if kind else None}


def clean_labels_per_item(task: str, n) -> int:
    """How many people must label each item of `task`: a whole number from 1 to MAX_LABELS_PER_ITEM."""
    if task not in TASKS:
        raise ReviewError(f"Unknown task {task!r}; use one of {', '.join(TASKS)}.")
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_LABELS_PER_ITEM:
        raise ReviewError(
            f"Labels per item of the {task} must be a whole number from 1 to {MAX_LABELS_PER_ITEM}, "
            f"not {n!r}; nothing was changed."
        )
    return n
