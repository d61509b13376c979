"""Repairs of a response that fails a checker: the revision request, the opt-in fixers, and the
provenance that says what was done (pure)."""

from dataclasses import dataclass

from rnr_core.attempts import Outcome, Try
from rnr_core.prompts import load
from rnr_core.rules.fixes import fix_response
from rnr_core.rules.sampling import check_rules

REVISE = load("revise")


def revision_turns(rules: list[dict], best: Try) -> list[dict]:
    """The reply as the model gave it, then a user turn naming the rules it broke."""
    failed = [r for r in rules if r["id"] in best.verdicts and not best.verdicts[r["id"]]]
    listed = "\n".join(f"- {r['text']}" for r in failed)
    return [
        {"role": "assistant", "content": best.parsed},
        {"role": "user", "content": REVISE.render(failed=listed)},
    ]


@dataclass(frozen=True)
class Kept:
    """The response a sample keeps, its checker verdicts, and how it was repaired (None: untouched)."""

    text: str
    verdicts: dict[str, bool]
    provenance: dict | None


def provenance(
    source: str, revisions: int = 0, failed: list = (), revised: list = (), fixes: list = ()
) -> dict:
    """The JSON a sample stores in samples.provenance."""
    return {
        "source": source,
        "revisions": revisions,
        "failed_kinds": sorted(set(failed)),
        "revised_kinds": sorted(set(revised)),
        "fixes": list(fixes),
    }


def keep(rules: list[dict], outcome: Outcome, fixers: bool, instruction: str | None = None) -> Kept:
    """The best try, mechanically fixed when `fixers` is on and it still fails; verdicts of the final text."""
    best = outcome.best
    text, verdicts, fixes = best.parsed, best.verdicts, []
    if fixers and not best.passed:
        text, fixes = fix_response(rules, best.parsed, instruction)
        verdicts = check_rules(rules, text) if fixes else verdicts
    if not outcome.revisions and not fixes:
        return Kept(text, verdicts, None)
    kinds = {r["id"]: r["kind"] for r in rules if r.get("kind")}
    before = Outcome(0, [t for t in outcome.tries if t.revision is None]).best
    failed = [kinds[i] for i, ok in before.verdicts.items() if not ok] if outcome.revisions else []
    revised = (
        [kinds[i] for i, ok in before.verdicts.items() if not ok and best.verdicts[i]]
        if best.revision
        else []
    )
    return Kept(text, verdicts, provenance("generated", outcome.revisions, failed, revised, fixes))


def first_user_text(conversation: list[dict]) -> str | None:
    """The request a derived title is made from (a follow-up turn's opener is the instruction)."""
    return next((m["content"] for m in conversation if m["role"] == "user"), None)
