"""Rank is independent of submission order and time (the DV-2012 failure mode).

Entrant references are issued in submission order, so any accidental dependence on the
reference order (sorting bugs, using the digest order) shows up as a dependence on
submission order. Each test also runs its statistic on a deliberately biased ranking, to
prove it has the power to catch the bug it guards against.
"""

from __future__ import annotations

import math

from lottery.draw import Beacon, DrawInput, Quota, run_draw

DRAWS = 300
ENTRANTS = 400
BINS = 8


def _critical_value(degrees: int, z: float = 3.2905) -> float:
    """Chi-square critical value at p = 0.0005 (Wilson-Hilferty), avoiding scipy."""
    return degrees * (1 - 2 / (9 * degrees) + z * math.sqrt(2 / (9 * degrees))) ** 3


def _chi_square_independence(table: list[list[int]]) -> float:
    rows = [sum(r) for r in table]
    cols = [sum(c) for c in zip(*table, strict=True)]
    total = sum(rows)
    statistic = 0.0
    for i, row in enumerate(table):
        for j, observed in enumerate(row):
            expected = rows[i] * cols[j] / total
            statistic += (observed - expected) ** 2 / expected
    return statistic


def _draws(strata=None):
    refs = [f"SL-{i:05d}" for i in range(ENTRANTS)]  # submission order
    strata = strata or [""] * ENTRANTS
    for n in range(DRAWS):
        beacon = Beacon(source="declared", description="test", value=f"value {n}")
        yield refs, run_draw(DrawInput(f"fair-{n}", 40, {}, refs, strata, beacon))


def test_rank_is_independent_of_submission_order():
    table = [[0] * BINS for _ in range(BINS)]
    biased = [[0] * BINS for _ in range(BINS)]
    for refs, result in _draws():
        order = {ref: i for i, ref in enumerate(refs)}
        for rank, ref in enumerate(result.refs):
            table[order[ref] * BINS // ENTRANTS][rank * BINS // ENTRANTS] += 1
        # A broken draw that ranks mostly by submission order, with a little noise.
        for rank, ref in enumerate(
            sorted(result.refs, key=lambda r: order[r] + (int(r[3:]) * 37 % 50))
        ):
            biased[order[ref] * BINS // ENTRANTS][rank * BINS // ENTRANTS] += 1
    critical = _critical_value((BINS - 1) ** 2)
    assert _chi_square_independence(table) < critical
    assert _chi_square_independence(biased) > critical


def test_winners_submission_days_match_the_entrants():
    """Most entrants submit on the first two days; winners must show the same spread."""
    days = [0] * 200 + [1] * 100 + [d for d in range(2, 30) for _ in range(4)][:100]
    assert len(days) == ENTRANTS
    entrants_per_day = [0] * 30
    for d in days:
        entrants_per_day[d] += 1
    groups = [(0, 1), (1, 2), (2, 10), (10, 30)]

    def group_of(day):
        return next(i for i, (a, b) in enumerate(groups) if a <= day < b)

    observed = [0] * len(groups)
    winners = 0
    for refs, result in _draws():
        day_of = dict(zip(refs, days, strict=True))
        for ref, flag in zip(result.refs, result.winner_flags, strict=True):
            if flag:
                observed[group_of(day_of[ref])] += 1
                winners += 1
    share = [sum(entrants_per_day[a:b]) / ENTRANTS for a, b in groups]
    statistic = sum(
        (o - winners * p) ** 2 / (winners * p) for o, p in zip(observed, share, strict=True)
    )
    assert statistic < _critical_value(len(groups) - 1)
    # The DV-2012 bug: selecting the first entries instead of random ones fails this test.
    early = [0] * len(groups)
    for _ in range(DRAWS):
        for day in days[:40]:
            early[group_of(day)] += 1
    biased = sum((o - winners * p) ** 2 / (winners * p) for o, p in zip(early, share, strict=True))
    assert biased > _critical_value(len(groups) - 1)


def test_reserved_seats_do_not_depend_on_submission_order():
    """With strata, each stratum's winners are still spread over submission order."""
    strata = ["first-time" if i % 4 == 0 else "" for i in range(ENTRANTS)]
    halves = [0, 0]
    refs = [f"SL-{i:05d}" for i in range(ENTRANTS)]
    for n in range(DRAWS):
        beacon = Beacon(source="declared", description="test", value=f"value {n}")
        result = run_draw(
            DrawInput(f"strata-{n}", 40, {"first-time": Quota(10, 20)}, refs, strata, beacon)
        )
        index = {ref: i for i, ref in enumerate(refs)}
        for ref, stratum, flag in zip(result.refs, result.strata, result.winner_flags, strict=True):
            if flag and stratum == "first-time":
                halves[index[ref] * 2 // ENTRANTS] += 1
    total = sum(halves)
    statistic = sum((h - total / 2) ** 2 / (total / 2) for h in halves)
    assert statistic < _critical_value(1)
