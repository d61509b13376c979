"""Pairwise votes: hand-computed win rates, a synthetic tournament Bradley-Terry recovers, and the
judge's agreement with people."""

import math

import numpy as np
import pytest

from rnr_core.ranking import (
    PRIOR,
    bradley_terry,
    category_win_rates,
    head_to_head,
    judge_human_agreement,
    win_rates,
)


def vote(a, b, winner, category=None):
    return {"model_a": a, "model_b": b, "winner": winner, "category": category}


# Six votes among three models, with every kind of outcome and both seatings.
HAND = [
    vote("A", "B", "a", "style"),
    vote("A", "B", "b", "style"),
    vote("A", "C", "tie", ["style", "format"]),
    vote("B", "C", "both_bad", "format"),
    vote("C", "A", "a"),
    vote("A", "B", "a", "format"),
]


def test_win_rates_by_hand_count_ties_and_both_bad_as_half_wins():
    rates = win_rates(HAND)
    counts = {m: (r["wins"], r["losses"], r["ties"], r["n"]) for m, r in rates.items()}
    assert counts == {"A": (2, 2, 1, 5), "B": (1, 2, 1, 4), "C": (1, 0, 2, 3)}
    assert rates["A"]["rate"] == 0.5 and rates["B"]["rate"] == 0.375
    assert rates["C"]["rate"] == pytest.approx(2 / 3)
    for r in rates.values():
        low, high = r["ci95"]
        assert 0 <= low <= r["rate"] <= high <= 1
    assert win_rates(HAND, seed=0) == rates


def test_win_rate_interval_narrows_like_a_proportion_and_is_exact_at_the_edges():
    many = [vote("X", "Y", "a")] * 300 + [vote("X", "Y", "b")] * 200
    low, high = win_rates(many)["X"]["ci95"]
    assert high - low == pytest.approx(2 * 1.96 * (0.6 * 0.4 / 500) ** 0.5, abs=0.01)
    sweep = win_rates([vote("X", "Y", "a")] * 8)
    assert sweep["X"]["ci95"] == [1.0, 1.0] and sweep["Y"]["ci95"] == [0.0, 0.0]
    assert win_rates([]) == {}


def test_head_to_head_by_hand_seats_each_pair_alphabetically():
    rows = {(r["model_a"], r["model_b"]): r for r in head_to_head(HAND)}
    assert list(rows) == [("A", "B"), ("A", "C"), ("B", "C")]
    cells = {k: (r["a_wins"], r["b_wins"], r["ties"], r["n"]) for k, r in rows.items()}
    assert cells == {("A", "B"): (2, 1, 0, 3), ("A", "C"): (0, 1, 1, 2), ("B", "C"): (0, 0, 1, 1)}
    assert rows[("A", "B")]["a_rate"] == pytest.approx(2 / 3)
    assert rows[("A", "C")]["a_rate"] == 0.25 and rows[("B", "C")]["a_rate"] == 0.5


def test_category_win_rates_count_a_vote_in_each_of_its_categories():
    by = category_win_rates(HAND)
    assert sorted(by) == ["format", "style"]  # the vote without a category is left out
    assert {m: r["n"] for m, r in by["style"].items()} == {"A": 3, "B": 2, "C": 1}
    assert (by["format"]["A"]["wins"], by["format"]["C"]["ties"]) == (1, 2)


@pytest.mark.parametrize(
    "bad, message",
    [
        (vote("A", "B", "A"), "vote 1: winner must be one of a, b, tie, both_bad, got 'A'"),
        (vote("A", "A", "a"), "vote 1: a model cannot be compared with itself"),
        (vote("A", "", "a"), "vote 1: model_a and model_b must both name a model"),
    ],
)
def test_bad_votes_are_refused_naming_the_vote(bad, message):
    for fn in (win_rates, head_to_head, bradley_terry, category_win_rates):
        with pytest.raises(ValueError, match=message):
            fn([vote("A", "B", "a"), bad])


def tournament(ratings: dict[str, float], votes: int, seed: int) -> list[dict]:
    """Votes between random pairs, won with the Bradley-Terry probability of the true ratings."""
    rng = np.random.default_rng(seed)
    names = list(ratings)
    first = rng.integers(0, len(names), votes)
    second = (first + rng.integers(1, len(names), votes)) % len(names)
    true = np.array([ratings[n] for n in names])
    p_first = 1 / (1 + 10 ** ((true[second] - true[first]) / 400))
    won = rng.random(votes) < p_first
    return [vote(names[i], names[j], "a" if w else "b") for i, j, w in zip(first, second, won)]


def test_bradley_terry_recovers_a_synthetic_tournament():
    truth = {"best": 1250.0, "good": 1100.0, "mid": 1000.0, "fair": 930.0, "weak": 720.0}  # mean 1000
    rows = bradley_terry(tournament(truth, 20_000, seed=3), n_boot=500)
    assert [r["model"] for r in rows] == list(truth)
    assert [r["rank"] for r in rows] == [1, 2, 3, 4, 5]
    assert np.mean([r["rating"] for r in rows]) == pytest.approx(1000)
    for r in rows:
        assert r["rating"] == pytest.approx(truth[r["model"]], abs=20)
        assert r["ci95"][0] < r["rating"] < r["ci95"][1] and r["ci95"][1] - r["ci95"][0] < 40
        assert r["group"] == 0 and 7000 < r["n"] < 9000
    covered = sum(r["ci95"][0] <= truth[r["model"]] <= r["ci95"][1] for r in rows)
    assert covered >= 4
    assert bradley_terry(tournament(truth, 2000, seed=3), n_boot=50, seed=1) == bradley_terry(
        tournament(truth, 2000, seed=3), n_boot=50, seed=1
    )


def test_two_models_match_the_closed_form_with_ties_and_both_bad_as_half_wins():
    votes = [vote("X", "Y", "a")] * 5 + [vote("Y", "X", "a")] + [vote("X", "Y", "tie")] * 3
    votes += [vote("Y", "X", "both_bad")]  # X: 5 + 2 half wins, Y: 1 + 2 half wins
    rows = bradley_terry(votes, n_boot=200)
    gap = 400 * math.log10((5 + 2 + PRIOR) / (1 + 2 + PRIOR))
    assert [r["model"] for r in rows] == ["X", "Y"]
    assert rows[0]["rating"] == pytest.approx(1000 + gap / 2)
    assert rows[1]["rating"] == pytest.approx(1000 - gap / 2)
    assert [r["n"] for r in rows] == [10, 10]


def test_only_ties_give_equal_ratings_and_a_shared_rank():
    rows = bradley_terry([vote("X", "Y", "tie"), vote("Y", "Z", "both_bad")] * 10, n_boot=100)
    assert [r["rating"] for r in rows] == pytest.approx([1000, 1000, 1000])
    assert {r["rank"] for r in rows} == {1}


def test_a_model_that_never_won_gets_a_finite_lowest_rating():
    votes = [vote("X", "Y", "a")] * 30 + [vote("Y", "Z", "a")] * 10 + [vote("Y", "Z", "b")] * 10
    rows = bradley_terry(votes, n_boot=200)
    assert rows[0]["model"] == "X" and rows[0]["rank"] == 1
    for r in rows:
        assert all(math.isfinite(x) for x in [r["rating"], *r["ci95"]])
    ratings = {r["model"]: r["rating"] for r in rows}
    assert ratings["X"] - ratings["Y"] > 1000  # never beaten: far above, held back only by the prior
    assert ratings["Y"] == pytest.approx(ratings["Z"], abs=5)


def test_models_never_compared_form_separate_groups_without_failing():
    votes = [vote("X", "Y", "a")] * 6 + [vote("X", "Y", "b")] * 4 + [vote("P", "Q", "a")] * 5
    rows = {r["model"]: r for r in bradley_terry(votes, n_boot=100)}
    assert rows["X"]["group"] == rows["Y"]["group"] != rows["P"]["group"] == rows["Q"]["group"]
    # within a group the votes decide; the prior's pseudo-games across groups barely move the gap
    assert rows["X"]["rating"] - rows["Y"]["rating"] == pytest.approx(400 * math.log10(6 / 4), abs=0.5)
    assert all(math.isfinite(r["rating"]) for r in rows.values())


def test_bradley_terry_without_votes_or_resamples():
    assert bradley_terry([]) == []
    rows = bradley_terry([vote("X", "Y", "a")], n_boot=0)
    assert [(r["model"], r["rank"], r["ci95"]) for r in rows] == [("X", 1, None), ("Y", 2, None)]


def test_judge_human_agreement_on_a_hand_table():
    pairs = [("a", "a")] * 4 + [("b", "b")] * 3 + [("tie", "both_bad"), ("a", "b"), ("tie", "a")]
    got = judge_human_agreement(pairs)
    # p_o = 8/10; judge a/b/tie 5/3/2, people 5/4/1: p_e = (25 + 12 + 2) / 100, kappa = (0.8 - 0.39) / 0.61
    assert got["n"] == 10 and got["accuracy"] == pytest.approx(0.8)
    assert got["kappa"] == pytest.approx(0.41 / 0.61)
    low, high = got["kappa_ci95"]
    assert low < got["kappa"] < high
    assert got["trustworthy"] is True
    assert judge_human_agreement([("a", "a")])["kappa"] is None
    assert judge_human_agreement([])["accuracy"] is None
    with pytest.raises(ValueError, match="pair 0: .*got 'maybe'"):
        judge_human_agreement([("a", "maybe")])


def test_the_fit_solves_the_likelihood_equations():
    # At the maximum each model's expected wins (ties as halves, the prior included) equal its actual ones.
    votes = tournament({"p": 1150.0, "q": 1000.0, "r": 980.0, "s": 870.0}, 600, seed=5)
    votes += [vote("p", "s", "tie")] * 7 + [vote("q", "r", "both_bad")] * 4
    ratings = {r["model"]: r["rating"] for r in bradley_terry(votes, n_boot=0)}
    wins = dict.fromkeys(ratings, 0.0)
    expected = dict.fromkeys(ratings, 0.0)
    for x in ratings:
        for y in ratings:
            if x == y:
                continue
            games = [v for v in votes if {v["model_a"], v["model_b"]} == {x, y}]
            won = sum(
                1.0
                if v["winner"] == ("a" if v["model_a"] == x else "b")
                else 0.0
                if v["winner"] in "ab"
                else 0.5
                for v in games
            )
            wins[x] += won + PRIOR
            expected[x] += (len(games) + 2 * PRIOR) / (1 + 10 ** ((ratings[y] - ratings[x]) / 400))
    assert expected == pytest.approx(wins, rel=1e-6)
