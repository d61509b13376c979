"""Pairwise votes between models: win rates, head-to-head tables, Bradley-Terry ratings on an Elo-like
scale with bootstrap 95% CIs, and the LLM judge's agreement with people (pure).

A vote is a dict {model_a, model_b, winner, category (optional)} with winner in WINNERS. A tie and
"both bad" count as half a win each way: neither response was preferred.
"""

from collections import Counter

import numpy as np

from rnr_core import stats

WINNERS = ("a", "b", "tie", "both_bad")
# Pseudo-wins given each way on every pair of models: keeps a model that never won (or never lost)
# finite, and ties together groups of models that were never compared, without moving real ratings.
PRIOR = 0.01
# Elo-like scale: 400 points per factor of ten in strength, centred so the mean rating is 1000.
SCALE, CENTRE = 400.0, 1000.0
MM_STEPS, MAX_NEWTON, TOL = 10, 100, 1e-9


def _checked(votes: list[dict]) -> list[dict]:
    """The votes, or a ValueError naming the first bad one and what is expected."""
    for i, v in enumerate(votes):
        if v.get("winner") not in WINNERS:
            raise ValueError(f"vote {i}: winner must be one of {', '.join(WINNERS)}, got {v.get('winner')!r}")
        if not v.get("model_a") or not v.get("model_b"):
            raise ValueError(f"vote {i}: model_a and model_b must both name a model")
        if v["model_a"] == v["model_b"]:
            raise ValueError(f"vote {i}: a model cannot be compared with itself ({v['model_a']!r})")
    return votes


def _share(wins: int, ties: int, n: int, rng: np.random.Generator, n_boot: int) -> tuple:
    """(wins + ties / 2) / n with a percentile bootstrap CI: resampling n votes is a multinomial draw
    over (won, tied, lost)."""
    if n == 0:
        return None, None
    draws = rng.multinomial(n, np.array([wins, ties, n - wins - ties]) / n, size=n_boot)
    return (wins + ties / 2) / n, stats.percentile_ci((draws[:, 0] + draws[:, 1] / 2) / n)


def win_rates(votes: list[dict], seed: int = 0, n_boot: int = 2000) -> dict:
    """Per model: wins, losses, ties (incl. both bad), n, rate = (wins + ties / 2) / n, and ci95.

    ci95 is a seeded percentile bootstrap over the model's votes (not Wilson: a half win is not a
    binomial count).
    """
    tally: dict[str, list[int]] = {}
    for v in _checked(votes):
        for model, won in ((v["model_a"], "a"), (v["model_b"], "b")):
            row = tally.setdefault(model, [0, 0, 0])
            row[0 if v["winner"] == won else 2 if v["winner"] in ("tie", "both_bad") else 1] += 1
    rng = np.random.default_rng(seed)
    result = {}
    for model, (wins, losses, ties) in sorted(tally.items()):
        n = wins + losses + ties
        rate, ci = _share(wins, ties, n, rng, n_boot)
        result[model] = {"wins": wins, "losses": losses, "ties": ties, "n": n, "rate": rate, "ci95": ci}
    return result


def head_to_head(votes: list[dict], seed: int = 0, n_boot: int = 2000) -> list[dict]:
    """One row per pair of models that met, model_a before model_b alphabetically: a_wins, b_wins,
    ties (incl. both bad), n, a_rate = (a_wins + ties / 2) / n with a bootstrap ci95, as in win_rates."""
    pairs: dict[tuple[str, str], list[int]] = {}
    for v in _checked(votes):
        a, b, winner = v["model_a"], v["model_b"], v["winner"]
        if a > b:
            a, b, winner = b, a, {"a": "b", "b": "a"}.get(winner, winner)
        pairs.setdefault((a, b), [0, 0, 0])[{"a": 0, "b": 1}.get(winner, 2)] += 1
    rng = np.random.default_rng(seed)
    rows = []
    for (a, b), (a_wins, b_wins, ties) in sorted(pairs.items()):
        n = a_wins + b_wins + ties
        rate, ci = _share(a_wins, ties, n, rng, n_boot)
        rows.append(
            {"model_a": a, "model_b": b, "a_wins": a_wins, "b_wins": b_wins, "ties": ties, "n": n}
            | {"a_rate": rate, "ci95": ci}
        )
    return rows


def category_win_rates(votes: list[dict], seed: int = 0) -> dict:
    """win_rates per category: a vote's `category` is a name or a list of names (an item whose rules
    span several categories counts in each); votes without one are left out."""
    groups: dict[str, list[dict]] = {}
    for v in _checked(votes):
        names = v.get("category")
        for name in [names] if isinstance(names, str) else names or []:
            groups.setdefault(name, []).append(v)
    return {name: win_rates(group, seed=seed) for name, group in sorted(groups.items())}


def _pair_counts(votes: list[dict], models: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair (i < j) of model indices, and per pair the counts [i won, j won, tie or both bad]."""
    index = {m: k for k, m in enumerate(models)}
    first, second = np.triu_indices(len(models), k=1)
    slot = {(i, j): p for p, (i, j) in enumerate(zip(first.tolist(), second.tolist()))}
    counts = np.zeros((len(first), 3))
    for (a, b, winner), k in Counter((v["model_a"], v["model_b"], v["winner"]) for v in votes).items():
        i, j = index[a], index[b]
        outcome = {"a": 0, "b": 1}.get(winner, 2)
        if i > j:
            i, j, outcome = j, i, {0: 1, 1: 0}.get(outcome, 2)
        counts[slot[(i, j)], outcome] += k
    return first, second, counts


def _fit(counts: np.ndarray, first: np.ndarray, second: np.ndarray, m: int) -> np.ndarray:
    """Bradley-Terry log-strengths (mean 0) for each stack of pair counts (B, P, 3), all stacks at once.

    MM steps (Hunter 2004: p_i <- W_i / sum_j n_ij / (p_i + p_j)) start it, since they always increase
    the likelihood; Newton steps (capped at a factor e per step) finish it, since MM alone crawls when
    models are linked only weakly (a model that never lost, groups joined only by the PRIOR).
    """
    wins_ij = counts[..., 0] + counts[..., 2] / 2 + PRIOR
    wins_ji = counts[..., 1] + counts[..., 2] / 2 + PRIOR
    games = wins_ij + wins_ji
    onehot_i, onehot_j = np.eye(m)[first], np.eye(m)[second]  # (P, m): scatter pair sums onto models
    total_wins = wins_ij @ onehot_i + wins_ji @ onehot_j
    log_p = np.zeros((len(counts), m))
    for _ in range(MM_STEPS):
        p = np.exp(log_p)
        per_pair = games / (p[:, first] + p[:, second])
        log_p = np.log(total_wins) - np.log(per_pair @ (onehot_i + onehot_j))
        log_p -= log_p.mean(axis=1, keepdims=True)
    for _ in range(MAX_NEWTON):
        won = 1 / (1 + np.exp(log_p[:, second] - log_p[:, first]))  # P(i beats j) per pair
        gradient = total_wins - (games * won) @ onehot_i - (games * (1 - won)) @ onehot_j
        # Minus the Hessian is the weighted Laplacian of the pairs; adding 1/m everywhere fixes the
        # free shift (the step then sums to zero, as the gradient does).
        weight = games * won * (1 - won)
        laplacian = np.zeros((len(counts), m, m)) + 1 / m
        laplacian[:, first, second] -= weight
        laplacian[:, second, first] -= weight
        laplacian[:, np.arange(m), np.arange(m)] += weight @ (onehot_i + onehot_j)
        step = np.linalg.solve(laplacian, gradient[..., None])[..., 0]
        biggest = np.abs(step).max(axis=1, keepdims=True)
        log_p += step / np.maximum(biggest, 1.0)
        if biggest.max() < TOL:
            break
    return log_p - log_p.mean(axis=1, keepdims=True)


def _groups(first: np.ndarray, second: np.ndarray, counts: np.ndarray, m: int) -> list[int]:
    """Connected component of each model in the graph of pairs that met, numbered by first member."""
    parent = list(range(m))

    def root(k: int) -> int:
        while parent[k] != k:
            k = parent[k]
        return k

    for i, j in zip(first[counts.sum(axis=1) > 0], second[counts.sum(axis=1) > 0]):
        parent[root(int(j))] = root(int(i))
    roots = [root(k) for k in range(m)]
    return [sorted(set(roots), key=roots.index).index(r) for r in roots]


def bradley_terry(votes: list[dict], n_boot: int = 1000, seed: int = 0) -> list[dict]:
    """Bradley-Terry ratings fit on all votes at once, best first: {model, rating, ci95, rank, n, group}.

    Ties and both bad count as half a win each way. rating = 400 * log10(strength), shifted so the mean
    rating is 1000. ci95 is the percentile interval over n_boot resamples of the votes (a multinomial
    draw over the (pair, outcome) counts, so its cost does not grow with the number of votes); rank is
    1 + the number of models whose CI lies wholly above this one's, so models that cannot be told
    apart share a rank (as Chatbot Arena ranks). A PRIOR of 0.01 pseudo-wins each way on every pair
    keeps a model that never won or never lost finite (very low or high, with a wide CI). `group`
    numbers the connected groups of models that met, directly or through others; ratings are only
    comparable within a group (0 for all when every model is connected).
    """
    votes = _checked(votes)
    models = sorted({v["model_a"] for v in votes} | {v["model_b"] for v in votes})
    if not models:
        return []
    first, second, counts = _pair_counts(votes, models)
    total = int(counts.sum())
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(total, counts.ravel() / total, size=n_boot).reshape(n_boot, *counts.shape)
    ratings = SCALE / np.log(10) * _fit(np.concatenate([counts[None], draws]), first, second, len(models))
    ratings += CENTRE
    n_votes = Counter(m for v in votes for m in (v["model_a"], v["model_b"]))
    groups = _groups(first, second, counts, len(models))
    rows = [
        {
            "model": model,
            "rating": float(ratings[0, k]),
            "ci95": stats.percentile_ci(ratings[1:, k]) if n_boot else None,
            "n": n_votes[model],
            "group": groups[k],
        }
        for k, model in enumerate(models)
    ]
    rows.sort(key=lambda r: -r["rating"])
    for r in rows:
        better = [o for o in rows if o["ci95"] and r["ci95"] and o["ci95"][0] > r["ci95"][1]]
        r["rank"] = 1 + (len(better) if n_boot else rows.index(r))
    return rows


def judge_human_agreement(pairs: list[tuple[str, str]], seed: int = 0, n_boot: int = 1000) -> dict:
    """Agreement of the LLM pairwise judge with people, from (llm winner, human winner) on the same
    item and pair of models (same a/b sides).

    Both bad counts as a tie (neither is preferred). Accuracy and Cohen's kappa (sklearn) with a seeded
    percentile bootstrap CI over items, via stats.human_agreement; `trustworthy` as in stats.agreement.
    """
    for i, pair in enumerate(pairs):
        bad = [w for w in pair if w not in WINNERS]
        if bad:
            raise ValueError(f"pair {i}: winners must be one of {', '.join(WINNERS)}, got {bad[0]!r}")
    same = [tuple("tie" if w == "both_bad" else w for w in pair) for pair in pairs]
    result = stats.human_agreement([{"llm": llm, "human": human} for llm, human in same], seed, n_boot)
    kappa = result["value"]
    n = len(same)
    return {
        "n": n,
        "accuracy": sum(llm == human for llm, human in same) / n if n else None,
        "kappa": kappa,
        "kappa_ci95": result["ci95"],
        "trustworthy": None if kappa is None or n < stats.MIN_LABELS else kappa >= stats.KAPPA_FLOOR,
    }
