"""The day-of-submission test separates a fair draw from a DV-2012-like one."""

import random

import pytest

from transparency.stats import chi_square_survival, winners_match_entrants


@pytest.mark.parametrize(
    ("statistic", "degrees", "expected"),
    [(3.841, 1, 0.05), (11.070, 5, 0.05), (23.209, 10, 0.01), (0.0, 4, 1.0), (2.0, 2, 0.3679)],
)
def test_chi_square_survival_matches_the_tables(statistic, degrees, expected):
    assert chi_square_survival(statistic, degrees) == pytest.approx(expected, abs=2e-4)


def test_winners_drawn_at_random_pass():
    rng = random.Random(7)
    days = [day for day in range(30) for _ in range(200)]
    winners = rng.sample(days, 300)
    entrants = [days.count(d) for d in range(30)]
    won = [winners.count(d) for d in range(30)]
    result = winners_match_entrants(entrants, won)
    assert result.degrees_of_freedom == 29
    assert result.p_value > 0.01


def test_winners_from_the_first_days_only_fail_like_dv_2012():
    entrants = [200] * 30
    won = [150, 150] + [0] * 28
    result = winners_match_entrants(entrants, won)
    assert result.p_value < 1e-6


def test_too_few_winners_are_not_tested():
    assert winners_match_entrants([10, 10, 10], [1, 1, 0]).p_value is None
    assert winners_match_entrants([0, 0], [0, 0]).p_value is None
