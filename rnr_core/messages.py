"""OpenAI-style message lists: validation, normalisation and stable hashes."""

import hashlib
import json

ROLES = ("system", "user", "assistant")


def stable_hash(obj) -> str:
    """A hex digest of a JSON-serialisable object, independent of key order."""
    text = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def dedup_hash(messages: list[dict]) -> str:
    """Hash of the conversation with case and whitespace folded, so near-copies collide."""
    folded = "\x1e".join(f"{m['role']}\x1f{' '.join(m['content'].split()).lower()}" for m in messages)
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


def check_messages(messages) -> str | None:
    """Return what is wrong with a message list, or None when it is usable."""
    if not isinstance(messages, list) or not messages:
        return "expected a non-empty list of messages"
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict):
            return f"message {i} is not an object"
        if msg.get("role") not in ROLES:
            return f"message {i} has role {msg.get('role')!r}; expected one of {', '.join(ROLES)}"
        if not isinstance(msg.get("content"), str):
            return f"message {i} has no text 'content'"
    if not any(m["role"] == "user" and m["content"].strip() for m in messages):
        return "no non-empty user turn"
    return None


def prompt_turns(messages: list[dict]) -> list[dict]:
    """The conversation up to and including its last user turn, without source system turns."""
    turns = [m for m in messages if m["role"] != "system"]
    last_user = max(i for i, m in enumerate(turns) if m["role"] == "user")
    return [{"role": m["role"], "content": m["content"]} for m in turns[: last_user + 1]]


def last_user_text(messages: list[dict]) -> str:
    return [m["content"] for m in messages if m["role"] == "user"][-1]
