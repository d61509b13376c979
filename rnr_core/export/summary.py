"""What an export wrote, counted as its samples stream past: per split, per category and kind, pass
rates, models and templates, and how samples were repaired. Each sample adds one to a counter keyed by
its few distinct values, so the tallies stay small however many samples pass."""

import json
from collections import Counter

from rnr_core.store.selection import SEP


def provenance_key(raw: str | None) -> tuple:
    """(source, revised kinds, fixers) of a sample's provenance; an untouched generated sample has none."""
    if raw is None:
        return ("generated", None, ())
    try:
        found = json.loads(raw)
    except ValueError:
        found = None
    if not isinstance(found, dict):
        return ("unreadable", None, ())
    # Revised means a revision was kept: rounds that all lost leave the sampled reply, unrevised.
    revised = tuple(map(str, found["revised_kinds"])) if found.get("revised_kinds") else None
    fixers = tuple(str(f.get("fixer")) for f in found.get("fixes") or () if isinstance(f, dict))
    return (str(found.get("source", "generated")), revised, fixers)


def _names(joined: str | None) -> list[str]:
    return joined.split(SEP) if joined else []


class Summary:
    def __init__(self, splits):
        self.candidates = Counter()  # (categories, outcome) of every sample the filters chose
        self.written_rows = Counter()  # (split, categories, kinds, model, ..., provenance) of those written
        self.groups = {s: set() for s in splits}  # group keys: 32 characters each, not prompt texts
        self.dropped = 0

    def candidate(self, row: dict) -> None:
        self.candidates[row["categories"], row["outcome"]] += 1

    def written(self, row: dict, split: str) -> None:
        self.groups[split].add(row["group_key"])
        how = (row["model"], row["template"], row["prompt_model"], row["prompt_template"])
        self.written_rows[
            (split, row["categories"], row["kinds"], *how, provenance_key(row["provenance"]))
        ] += 1

    @property
    def written_count(self) -> int:
        return sum(self.written_rows.values())

    @property
    def outcomes(self) -> Counter:
        found = Counter()
        for (_, outcome), n in self.candidates.items():
            found[outcome] += n
        return found

    def pass_rates(self) -> dict:
        """Share of the candidates that passed every verdict, overall and per rule category."""
        by_category: dict[str, Counter] = {}
        for (categories, outcome), n in self.candidates.items():
            for category in _names(categories):
                by_category.setdefault(category, Counter())[outcome] += n
        outcomes, total = self.outcomes, sum(self.outcomes.values())
        return {
            "candidates": total,
            "passed": outcomes["pass"],
            "failed": outcomes["fail"],
            "unjudged": outcomes["unjudged"],
            "rate": _rate(outcomes["pass"], total),
            "by_category": {
                c: {
                    "candidates": sum(o.values()),
                    "passed": o["pass"],
                    "rate": _rate(o["pass"], sum(o.values())),
                }
                for c, o in sorted(by_category.items())
            },
        }

    def fields(self) -> dict:
        """The manifest's fields about what was written."""
        splits = list(self.groups)
        counts, categories, kinds = Counter(), {s: Counter() for s in splits}, {s: Counter() for s in splits}
        models, templates, prompt_models, prompt_templates = Counter(), Counter(), Counter(), Counter()
        sources, fixers, revised_kinds, revised, fixed = Counter(), Counter(), Counter(), 0, 0
        for (
            split,
            cats,
            kind,
            model,
            template,
            p_model,
            p_template,
            (source, rev, fixes),
        ), n in self.written_rows.items():
            counts[split] += n
            categories[split].update(dict.fromkeys(_names(cats), n))
            kinds[split].update(dict.fromkeys(_names(kind), n))
            models[model] += n
            templates[template] += n
            prompt_models[p_model] += n
            prompt_templates[p_template] += n
            sources[source] += n
            revised += n if rev is not None else 0
            revised_kinds.update(dict.fromkeys(rev or (), n))
            fixed += n if fixes else 0
            fixers.update({f: n * fixes.count(f) for f in set(fixes)})
        return {
            "counts": {s: counts[s] for s in splits},
            "prompts": {s: len(g) for s, g in self.groups.items()},
            "by_category": {s: _sorted(c) for s, c in categories.items()},
            "by_kind": {s: _sorted(c) for s, c in kinds.items()},
            "pass_rates": self.pass_rates(),
            "models": _sorted(models),
            "templates": _sorted(templates),
            "prompt_models": _sorted(prompt_models),
            "prompt_templates": _sorted(prompt_templates),
            "provenance": {
                "sources": _sorted(sources),
                "revised": revised,
                "revised_kinds": _sorted(revised_kinds),
                "fixed": fixed,
                "fixers": _sorted(fixers),
            },
        }


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _sorted(counter: Counter) -> dict:
    """Most common first, then by name, so files diff cleanly."""
    return dict(sorted(((str(k), v) for k, v in counter.items() if v), key=lambda kv: (-kv[1], kv[0])))
