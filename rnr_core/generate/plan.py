"""Deterministic work plans: which instructions go together, and the item keys to do."""

import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from rnr_core.errors import RnrError

GATE_CHOICES = ("auto", "on", "off")
GATE_OFF_MODELS = frozenset({"local"})  # too small to pass the gate; 'auto' turns it off for these
MODES = ("generate", "recycle")
REFERENCE_MODEL = "reference"  # what a recycled sample records as its model: the dataset's own answer
# Settings a run recorded before they existed resumes with: what the run did when it started.
OLD_RUN_DEFAULTS = {
    "verifiable_share": 0.0,
    "rejections": 0,
    "revisions": 0,
    "fixers": False,
    "mode": "generate",
}


@dataclass(frozen=True)
class RunConfig:
    """Everything that decides a run's output; stored with the run so resume repeats it."""

    dataset: str
    model: str = "local"
    n: int = 12
    k: int = 3
    rules: int = 4
    seed: int | None = None  # None: a fresh seed is drawn and recorded, so reruns add new samples
    tempting: bool = True
    out_of_scope: bool = True
    max_retries: int = 3
    verifiable_share: float = 0.5  # share of each prompt's rules drawn from the checkable kinds
    rejections: int = 2  # regenerations of a response that fails a checker
    # Retry system prompts unfit to train on (placeholders, ...): True, False, or 'auto' (resolve_gate).
    quality_gate: bool | str = "auto"
    temperature: float = 0.7
    max_tokens: int = 384
    # Checker-guided revision rounds for a response that still fails after rejection sampling. One:
    # the round costs a call only for such a response, and it is where most of the gain is.
    revisions: int = 1
    fixers: bool = False  # mechanically repair what still fails where the rule kind has an exact fix
    mode: str = "generate"  # or 'recycle': the dataset's reference answers, fixed to drawn rules
    groups: list = field(default_factory=list)
    outsiders: list = field(default_factory=list)
    skipped: list = field(default_factory=list)  # recycle: drawn instructions with no reference answer

    def as_dict(self) -> dict:
        return asdict(self)


def plan_groups(
    config: RunConfig,
    instruction_ids: list[int],
    with_reference: Callable[[list[int]], set[int]] | None = None,
) -> RunConfig:
    """Sample n instructions (seeded), split them into groups of k, and pick outsiders. A recycle
    run keeps drawing until n have a reference answer (`with_reference` says which of some ids do)."""
    if config.mode not in MODES:
        raise RnrError(f"The mode is {config.mode!r}; choose one of {', '.join(MODES)}.")
    if config.mode == "recycle":
        return _plan_recycle(config, instruction_ids, with_reference)
    _check_sizes(config, instruction_ids)
    gate = resolve_gate(config.quality_gate, config.model)
    seed = _seed(config)
    rng = random.Random(seed)
    chosen = rng.sample(instruction_ids, config.n)
    groups = [chosen[i : i + config.k] for i in range(0, config.n, config.k)]
    outsiders = (
        [_outsider(rng, groups, g, instruction_ids) for g in range(len(groups))]
        if config.out_of_scope
        else []
    )
    planned = {"seed": seed, "quality_gate": gate, "groups": groups, "outsiders": outsiders}
    return RunConfig(**{**config.as_dict(), **planned})


def _seed(config: RunConfig) -> int:
    return random.SystemRandom().randrange(2**31) if config.seed is None else config.seed


def _check_sizes(config: RunConfig, instruction_ids: list[int]) -> None:
    if config.n < 1 or config.k < 1 or config.rules < 1:
        raise RnrError(
            "Instructions, K and rules per system prompt must each be at least 1.", hint="run_sizes"
        )
    if config.max_retries < 0 or config.max_tokens < 1 or config.rejections < 0 or config.revisions < 0:
        raise RnrError("Retries, rejections or response length are out of range.", hint="run_limits")
    if not 0.0 <= config.verifiable_share <= 1.0:
        raise RnrError(f"The verifiable share is {config.verifiable_share}.", hint="verifiable_share")
    if len(instruction_ids) < config.n:
        raise RnrError(
            f"Dataset {config.dataset!r} has {len(instruction_ids):,} instructions, "
            f"fewer than the {config.n:,} asked for.",
            hint="fewer_instructions",
        )


def _plan_recycle(config: RunConfig, ids: list[int], with_reference) -> RunConfig:
    """Draw in a seeded order until n instructions have a reference answer; the ones passed over
    for having none are kept in the plan, so the run can say how many it skipped."""
    _check_sizes(config, ids)
    seed = _seed(config)
    order = random.Random(seed).sample(ids, len(ids))
    chosen, skipped, at = [], [], 0
    while len(chosen) < config.n and at < len(order):
        batch = order[at : at + 4 * (config.n - len(chosen))]
        have = with_reference(batch)
        for i in batch:
            if len(chosen) < config.n:
                (chosen if i in have else skipped).append(i)
        at += len(batch)
    if len(chosen) < config.n:
        raise RnrError(
            f"Dataset {config.dataset!r} has {len(chosen):,} instructions with a reference answer "
            f"(an Alpaca 'output', or an assistant turn after the last user turn), fewer than the "
            f"{config.n:,} asked for.",
            hint="fewer_instructions",
        )
    groups = [chosen[i : i + config.k] for i in range(0, config.n, config.k)]
    planned = {
        "seed": seed,
        "model": REFERENCE_MODEL,
        "quality_gate": False,
        "tempting": False,  # no model to answer a follow-up turn
        "out_of_scope": False,
        "verifiable_share": 1.0,
        "groups": groups,
        "outsiders": [],
        "skipped": skipped,
    }
    return RunConfig(**{**config.as_dict(), **planned})


def resolve_gate(gate: bool | str, model: str) -> bool:
    """'auto' is on for every model but the small embedded one, whose system prompts almost never
    pass (about one in ten tries of SmolLM2-135M): a first run on it keeps what it writes."""
    if isinstance(gate, bool):
        return gate
    if gate not in GATE_CHOICES:
        raise RnrError(f"The quality gate is {gate!r}; choose one of {', '.join(GATE_CHOICES)}.")
    return {"on": True, "off": False}.get(gate, model not in GATE_OFF_MODELS)


def _outsider(rng: random.Random, groups: list[list[int]], g: int, ids: list[int]) -> int | None:
    """An instruction from another group (else from the rest of the dataset) to test scope."""
    members = set(groups[g])
    pool = [i for h, group in enumerate(groups) if h != g for i in group]
    if not pool:
        pool = [i for i in ids[:10_000] if i not in members]
    return rng.choice(pool) if pool else None


def split_rules(config: RunConfig) -> tuple[int, int]:
    """(free-form rules the LLM writes, verifiable rules drawn from the registry)."""
    verifiable = round(config.rules * config.verifiable_share)
    return config.rules - verifiable, verifiable


def group_keys(config: RunConfig, g: int) -> list[str]:
    keys = [f"g{g:04d}:system"] + [f"g{g:04d}:r{j}" for j in range(len(config.groups[g]))]
    if config.tempting:
        keys.append(f"g{g:04d}:tempting")
    if config.out_of_scope and config.outsiders[g] is not None:
        keys.append(f"g{g:04d}:scope")
    return keys


def stage_totals(config: dict) -> dict[str, int]:
    """Items per stage of a stored plan, counted as group_keys lists them without building the keys."""
    groups, outsiders = config.get("groups") or [], config.get("outsiders") or []
    responses = sum(len(g) for g in groups) + (len(groups) if config.get("tempting") else 0)
    if config.get("out_of_scope"):
        responses += sum(o is not None for o in outsiders[: len(groups)])
    return {"system_prompt": len(groups), "response": responses}


def all_keys(config: RunConfig) -> list[str]:
    return [k for g in range(len(config.groups)) for k in group_keys(config, g)]
