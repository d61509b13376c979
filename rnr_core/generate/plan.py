"""Deterministic work plans: which instructions go together, and the item keys to do."""

import random
from dataclasses import asdict, dataclass, field

from rnr_core.errors import RnrError


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
    quality_gate: bool = True  # retry system prompts that are unfit to train on (placeholders, ...)
    temperature: float = 0.7
    max_tokens: int = 384
    groups: list = field(default_factory=list)
    outsiders: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def plan_groups(config: RunConfig, instruction_ids: list[int]) -> RunConfig:
    """Sample n instructions (seeded), split them into groups of k, and pick outsiders."""
    if config.n < 1 or config.k < 1 or config.rules < 1:
        raise RnrError("-n, --k and --rules must each be at least 1.")
    if config.max_retries < 0 or config.max_tokens < 1 or config.rejections < 0:
        raise RnrError("--max-retries and --rejections must be 0 or more, --max-tokens at least 1.")
    if not 0.0 <= config.verifiable_share <= 1.0:
        raise RnrError(f"--verifiable-share must be between 0 and 1, got {config.verifiable_share}.")
    if len(instruction_ids) < config.n:
        raise RnrError(
            f"Dataset {config.dataset!r} has {len(instruction_ids)} instructions; "
            f"-n {config.n} asks for more. Lower -n or ingest more data."
        )
    seed = random.SystemRandom().randrange(2**31) if config.seed is None else config.seed
    rng = random.Random(seed)
    chosen = rng.sample(instruction_ids, config.n)
    groups = [chosen[i : i + config.k] for i in range(0, config.n, config.k)]
    outsiders = (
        [_outsider(rng, groups, g, instruction_ids) for g in range(len(groups))]
        if config.out_of_scope
        else []
    )
    return RunConfig(**{**config.as_dict(), "seed": seed, "groups": groups, "outsiders": outsiders})


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


def all_keys(config: RunConfig) -> list[str]:
    return [k for g in range(len(config.groups)) for k in group_keys(config, g)]
