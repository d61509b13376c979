"""Deterministic work plans: which instructions go together, and the item keys to do."""

import random
from dataclasses import asdict, dataclass, field

from rnr_core.errors import RnrError

GATE_CHOICES = ("auto", "on", "off")
GATE_OFF_MODELS = frozenset({"local"})  # too small to pass the gate; 'auto' turns it off for these


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
    groups: list = field(default_factory=list)
    outsiders: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def plan_groups(config: RunConfig, instruction_ids: list[int]) -> RunConfig:
    """Sample n instructions (seeded), split them into groups of k, and pick outsiders."""
    if config.n < 1 or config.k < 1 or config.rules < 1:
        raise RnrError(
            "Instructions, K and rules per system prompt must each be at least 1.", hint="run_sizes"
        )
    if config.max_retries < 0 or config.max_tokens < 1 or config.rejections < 0:
        raise RnrError("Retries, rejections or response length are out of range.", hint="run_limits")
    if not 0.0 <= config.verifiable_share <= 1.0:
        raise RnrError(f"The verifiable share is {config.verifiable_share}.", hint="verifiable_share")
    if len(instruction_ids) < config.n:
        raise RnrError(
            f"Dataset {config.dataset!r} has {len(instruction_ids):,} instructions, "
            f"fewer than the {config.n:,} asked for.",
            hint="fewer_instructions",
        )
    gate = resolve_gate(config.quality_gate, config.model)
    seed = random.SystemRandom().randrange(2**31) if config.seed is None else config.seed
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
