"""Pure allocation rules: which winner gets how much compute at which center, and the tranches.

No Django here: the admin's proposal page and the tests call these with plain data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

CENT = Decimal("0.01")
ACCEPTANCE_SHARE = Decimal("0.40")


@dataclass(frozen=True)
class Need:
    """A winner waiting for a grant, in draw rank order."""

    key: int
    rank: int
    amount: Decimal
    preferred_centers: tuple[str, ...] = ()


@dataclass
class Pool:
    """Remaining capacity of one GPU type of one center for the round."""

    key: int
    center: str
    available: Decimal
    label: str = ""


@dataclass(frozen=True)
class Assignment:
    need: Need
    pool: int | None
    center: str | None
    amount: Decimal
    preference: int | None = None  # 1 = first choice; None = not among the founder's choices
    note: str = ""


@dataclass
class Proposal:
    assignments: list[Assignment] = field(default_factory=list)

    @property
    def placed(self) -> list[Assignment]:
        return [a for a in self.assignments if a.pool is not None]

    @property
    def unplaced(self) -> list[Assignment]:
        return [a for a in self.assignments if a.pool is None]


def grant_amount(
    *, requested: Decimal | int, minimum: Decimal | int, maximum: Decimal | int
) -> Decimal:
    """The round's grant size limits applied to what the founder asked for."""
    return max(Decimal(minimum), min(Decimal(requested), Decimal(maximum)))


def propose(needs: Sequence[Need], pools: Sequence[Pool]) -> Proposal:
    """Place winners in rank order: the first preferred center with room, then any center
    with the most room left. Nobody is split across centers; who does not fit is listed."""
    remaining = {pool.key: pool.available for pool in pools}
    proposal = Proposal()
    for need in sorted(needs, key=lambda n: (n.rank, n.key)):
        chosen: Pool | None = None
        preference: int | None = None
        for position, center in enumerate(need.preferred_centers, start=1):
            candidates = [
                p for p in pools if p.center == center and remaining[p.key] >= need.amount
            ]
            if candidates:
                chosen = max(candidates, key=lambda p: (remaining[p.key], -p.key))
                preference = position
                break
        if chosen is None:
            candidates = [p for p in pools if remaining[p.key] >= need.amount]
            if candidates:
                chosen = max(candidates, key=lambda p: (remaining[p.key], -p.key))
        if chosen is None:
            proposal.assignments.append(
                Assignment(need, None, None, need.amount, note="no center has enough capacity left")
            )
            continue
        remaining[chosen.key] -= need.amount
        proposal.assignments.append(
            Assignment(need, chosen.key, chosen.center, need.amount, preference=preference)
        )
    return proposal


def tranche_amounts(
    total: Decimal, milestones: int, *, first_share: Decimal = ACCEPTANCE_SHARE
) -> list[Decimal]:
    """40 % on acceptance, the rest split evenly over the committed milestones (the last one
    takes the rounding remainder so the tranches always add up to the total)."""
    total = Decimal(total)
    if milestones <= 0:
        return [total]
    first = (total * first_share).quantize(CENT, rounding=ROUND_DOWN)
    rest = total - first
    share = (rest / milestones).quantize(CENT, rounding=ROUND_DOWN)
    amounts = [first] + [share] * milestones
    amounts[-1] += total - sum(amounts)
    return amounts


def rescale_pending(pending: Sequence[Decimal], new_total_pending: Decimal) -> list[Decimal]:
    """Spread a new unreleased total over the pending tranches in their old proportions."""
    if not pending:
        return []
    old_total = sum(pending, Decimal(0))
    if old_total == 0:
        equal = (new_total_pending / len(pending)).quantize(CENT, rounding=ROUND_DOWN)
        amounts = [equal] * len(pending)
    else:
        amounts = [
            (a * new_total_pending / old_total).quantize(CENT, rounding=ROUND_DOWN) for a in pending
        ]
    amounts[-1] += new_total_pending - sum(amounts)
    return amounts
