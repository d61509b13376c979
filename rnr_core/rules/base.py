"""The registry of verifiable rule kinds and the validation of their kwargs."""

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from rnr_core.errors import RuleError

RELATIONS = ("less than", "at least")


@dataclass(frozen=True)
class Param:
    """One kwarg of a kind: its name, a type check and the words used in errors."""

    name: str
    ok: Callable[[Any], bool]
    expected: str


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_str(v) -> bool:
    return isinstance(v, str) and bool(v.strip())


def _is_str_list(v) -> bool:
    return isinstance(v, list) and bool(v) and all(_is_str(x) for x in v)


def integer(name: str) -> Param:
    return Param(name, lambda v: _is_int(v) and v >= 0, "a non-negative integer")


def text(name: str) -> Param:
    return Param(name, _is_str, "a non-empty string")


def letter(name: str) -> Param:
    return Param(name, lambda v: isinstance(v, str) and len(v.strip()) == 1, "a single character")


def words(name: str) -> Param:
    return Param(name, _is_str_list, "a non-empty list of non-empty strings")


def relation(name: str) -> Param:
    return Param(name, lambda v: v in RELATIONS, "one of " + " / ".join(map(repr, RELATIONS)))


def compare(count: int, rel: str, n: int) -> bool:
    """IFEval's relations: 'less than' is count < n, 'at least' is count >= n."""
    return count < n if rel == "less than" else count >= n


def phrase(rel: str, n: int, unit: str) -> str:
    """'fewer than 5 sentences' / 'at least 5 sentences'."""
    return f"{'fewer than' if rel == 'less than' else 'at least'} {n} {unit}"


class RuleKind:
    """A verifiable rule: validated kwargs, a pure check, and its wording for a system prompt."""

    id: ClassVar[str]
    category: ClassVar[str]
    params: ClassVar[tuple[Param, ...]] = ()
    in_pool: ClassVar[bool] = True  # drawn by rule-aware generation

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        for k, v in kwargs.items():
            setattr(self, k, v)

    def check(self, response: str) -> bool:
        raise NotImplementedError

    def render(self) -> str:
        raise NotImplementedError

    @classmethod
    def sample(cls, rng: random.Random) -> dict:
        """Kwargs for a fresh rule of this kind."""
        return {}


KINDS: dict[str, type[RuleKind]] = {}


def register(cls: type[RuleKind]) -> type[RuleKind]:
    """Add a kind to the registry under its IFEval id."""
    KINDS[cls.id] = cls
    return cls


def build(kind_id: str, kwargs: dict | None = None, where: str = "") -> RuleKind:
    """A rule of a known kind with validated kwargs; errors name the kind and the kwarg."""
    at = f"{where}: " if where else ""
    cls = KINDS.get(kind_id) if isinstance(kind_id, str) else None
    if cls is None:
        raise RuleError(f"{at}unknown rule kind {kind_id!r}; known kinds: {', '.join(sorted(KINDS))}")
    if kwargs is not None and not isinstance(kwargs, dict):
        raise RuleError(f"{at}{kind_id}: kwargs must be an object, got {type(kwargs).__name__}")
    # A null value means "not given" (IFEval's published kwargs list every name, mostly null).
    given = {k: v for k, v in (kwargs or {}).items() if v is not None}
    names = {p.name for p in cls.params}
    extra = sorted(set(given) - names)
    if extra:
        allowed = ", ".join(sorted(names)) or "none"
        raise RuleError(f"{at}{kind_id}: unexpected kwarg {extra[0]!r} (allowed: {allowed})")
    for p in cls.params:
        if p.name not in given:
            raise RuleError(f"{at}{kind_id}: missing kwarg {p.name!r} ({p.expected})")
        if not p.ok(given[p.name]):
            raise RuleError(f"{at}{kind_id}: kwarg {p.name!r} must be {p.expected}, got {given[p.name]!r}")
    return cls(**given)
