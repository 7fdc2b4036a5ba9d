"""Is a draw's result independent of when people applied? A chi-square goodness-of-fit test.

The winners should look like a random sample of the entrants: on each day the number of winners
who applied that day should be close to (winners × that day's share of entrants). The DV-2012
lottery failed exactly here: most winners had applied in the first two days. Days with few
expected winners are pooled with the next ones so every group expects at least five (the usual
condition for the chi-square approximation). Django-free, standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MIN_EXPECTED = 5.0


@dataclass(frozen=True)
class FitResult:
    statistic: float
    degrees_of_freedom: int
    p_value: float | None  # None when there are too few winners to test


def _regularized_lower_gamma(s: float, x: float) -> float:
    """P(s, x): the chi-square CDF is P(k/2, x/2). Series for x < s + 1, continued fraction
    otherwise (Numerical Recipes' gser/gcf), accurate to about 1e-12."""
    if x <= 0:
        return 0.0
    log_prefix = s * math.log(x) - x - math.lgamma(s)
    if x < s + 1:
        term = total = 1.0 / s
        n = s
        for _ in range(1000):
            n += 1
            term *= x / n
            total += term
            if abs(term) < abs(total) * 1e-14:
                break
        return total * math.exp(log_prefix)
    tiny = 1e-300
    b = x + 1 - s
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 1000):
        an = -i * (i - s)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-14:
            break
    return 1 - math.exp(log_prefix) * h


def chi_square_survival(statistic: float, degrees_of_freedom: int) -> float:
    """P(X >= statistic) for X ~ chi-square(degrees_of_freedom)."""
    if degrees_of_freedom <= 0:
        return 1.0
    return max(0.0, 1 - _regularized_lower_gamma(degrees_of_freedom / 2, statistic / 2))


def winners_match_entrants(entrants: Sequence[int], winners: Sequence[int]) -> FitResult:
    """Goodness of fit of winners per group (e.g. per day, in order) to the entrants' shares."""
    total_entrants = sum(entrants)
    total_winners = sum(winners)
    if total_entrants == 0 or total_winners == 0:
        return FitResult(0.0, 0, None)
    pooled: list[tuple[float, int]] = []
    expected_sum, observed_sum = 0.0, 0
    for entered, won in zip(entrants, winners, strict=True):
        expected_sum += total_winners * entered / total_entrants
        observed_sum += won
        if expected_sum >= MIN_EXPECTED:
            pooled.append((expected_sum, observed_sum))
            expected_sum, observed_sum = 0.0, 0
    if expected_sum or observed_sum:
        if pooled:
            last_expected, last_observed = pooled.pop()
            pooled.append((last_expected + expected_sum, last_observed + observed_sum))
        else:
            pooled.append((expected_sum, observed_sum))
    if len(pooled) < 2:
        return FitResult(0.0, 0, None)
    statistic = sum((observed - expected) ** 2 / expected for expected, observed in pooled)
    degrees = len(pooled) - 1
    return FitResult(round(statistic, 3), degrees, chi_square_survival(statistic, degrees))
