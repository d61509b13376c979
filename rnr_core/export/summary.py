"""What an export wrote, counted as its samples stream past: per split, per category and kind, pass
rates, models and templates, and how samples were repaired. Small however many samples pass."""

import json
from collections import Counter

from rnr_core.stats import FREE_FORM


def provenance_of(raw: str | None) -> dict:
    """A sample's provenance; an ordinary generated sample when none is stored (or it cannot be read)."""
    if raw is None:
        return {"source": "generated"}
    try:
        found = json.loads(raw)
    except ValueError:
        return {"source": "unreadable"}
    return found if isinstance(found, dict) else {"source": "unreadable"}


class Summary:
    def __init__(self, splits):
        self.outcomes = Counter()
        self.counts = dict.fromkeys(splits, 0)
        self.groups = {s: set() for s in splits}  # group keys: 32 characters each, not prompt texts
        self.categories = {s: Counter() for s in splits}
        self.kinds = {s: Counter() for s in splits}
        self.judged = {}  # category -> Counter of outcomes over every candidate
        self.models, self.templates = Counter(), Counter()
        self.prompt_models, self.prompt_templates = Counter(), Counter()
        self.sources, self.fixers, self.revised_kinds = Counter(), Counter(), Counter()
        self.revised = self.fixed = self.dropped = 0

    def candidate(self, row: dict) -> None:
        """Every sample the filters chose, whether or not its verdicts let it out."""
        self.outcomes[row["outcome"]] += 1
        for category in set(row["categories"] or []):
            self.judged.setdefault(category, Counter())[row["outcome"]] += 1

    def written(self, row: dict, split: str) -> None:
        self.counts[split] += 1
        self.groups[split].add(row["group_key"])
        self.categories[split].update(set(row["categories"] or []))
        self.kinds[split].update({k or FREE_FORM for k in row["kinds"] or []})
        self.models[row["model"]] += 1
        self.templates[row["template"]] += 1
        self.prompt_models[row["prompt_model"]] += 1
        self.prompt_templates[row["prompt_template"]] += 1
        self._provenance(provenance_of(row["provenance"]))

    def _provenance(self, found: dict) -> None:
        self.sources[str(found.get("source", "generated"))] += 1
        if found.get("revisions"):
            self.revised += 1
            self.revised_kinds.update(str(k) for k in found.get("revised_kinds") or [])
        fixes = found.get("fixes") or []
        if fixes:
            self.fixed += 1
            self.fixers.update(str(f.get("fixer")) for f in fixes if isinstance(f, dict))

    def pass_rates(self) -> dict:
        """Share of the candidates that passed every verdict, overall and per rule category."""
        total = sum(self.outcomes.values())
        by_category = {
            c: {"candidates": sum(o.values()), "passed": o["pass"], "rate": _rate(o["pass"], sum(o.values()))}
            for c, o in sorted(self.judged.items())
        }
        return {
            "candidates": total,
            "passed": self.outcomes["pass"],
            "failed": self.outcomes["fail"],
            "unjudged": self.outcomes["unjudged"],
            "rate": _rate(self.outcomes["pass"], total),
            "by_category": by_category,
        }

    def provenance(self) -> dict:
        return {
            "sources": _sorted(self.sources),
            "revised": self.revised,
            "revised_kinds": _sorted(self.revised_kinds),
            "fixed": self.fixed,
            "fixers": _sorted(self.fixers),
        }

    def fields(self) -> dict:
        """The manifest's fields about what was written."""
        return {
            "counts": self.counts,
            "prompts": {s: len(g) for s, g in self.groups.items()},
            "by_category": {s: _sorted(c) for s, c in self.categories.items()},
            "by_kind": {s: _sorted(c) for s, c in self.kinds.items()},
            "pass_rates": self.pass_rates(),
            "models": _sorted(self.models),
            "templates": _sorted(self.templates),
            "prompt_models": _sorted(self.prompt_models),
            "prompt_templates": _sorted(self.prompt_templates),
            "provenance": self.provenance(),
        }


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _sorted(counter: Counter) -> dict:
    """Most common first, then by name, so files diff cleanly."""
    return dict(sorted(((str(k), v) for k, v in counter.items() if v), key=lambda kv: (-kv[1], kv[0])))
