"""The text of the published ranking blocks (``lottery.models.DrawRanking.lines``).

One line per entrant in rank order, each preceded by a newline and the last followed by one:
``ref TAB rank TAB stratum TAB ticket TAB application id TAB waitlist position`` (the position
empty for a winner). References, strata and tickets cannot hold a tab or newline (the spec's
alphabets), so the text splits back exactly. The database's guard on entries builds the same
line (lottery.db_guards): change both together.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from lottery.draw import OUTCOME_WAITLIST, OUTCOME_WINNER


@dataclass(frozen=True)
class RankedLine:
    reference: str
    rank: int
    stratum: str
    ticket: str
    application_id: int
    waitlist_position: int | None

    @property
    def drawn_outcome(self) -> str:
        return OUTCOME_WINNER if self.waitlist_position is None else OUTCOME_WAITLIST


def line_parse(line: str) -> RankedLine:
    reference, rank, stratum, ticket, application_id, position = line.split("\t")
    return RankedLine(
        reference, int(rank), stratum, ticket, int(application_id), int(position or 0) or None
    )


def result_rows(lines: str) -> Iterator[tuple[str, str, str, int, str, int | None]]:
    """(ref, stratum, ticket, rank, drawn outcome, waitlist position) of each line of a block:
    the record's columns, without building a RankedLine per entrant (a million of them)."""
    for line in lines.strip("\n").split("\n"):
        ref, rank, stratum, ticket, _application_id, position = line.split("\t")
        if position:
            yield ref, stratum, ticket, int(rank), OUTCOME_WAITLIST, int(position)
        else:
            yield ref, stratum, ticket, int(rank), OUTCOME_WINNER, None


def line_of(lines: str, reference: str) -> RankedLine | None:
    """The line of ``reference`` in a block's text, or None."""
    start = lines.find(f"\n{reference}\t")
    if start < 0:
        return None
    return line_parse(lines[start + 1 : lines.index("\n", start + 1)])


def blocks_text(
    refs: list[str],
    strata: list[str],
    tickets: list[str],
    application_ids: list[str],
    waitlist_positions: list[int | None],
    size: int,
) -> Iterator[tuple[int, int, str, str]]:
    """(first rank, last rank, first ticket, lines) of each block of ``size`` ranks, from the
    draw's columns in rank order. Built with joins over whole columns, a block at a time (a
    million lines in about half a second; the million lines never exist at once)."""
    # After the last winner every rank is waitlisted in turn: that tail, nearly all of a large
    # draw, is one C-level map instead of a Python loop.
    last_winner = (
        len(waitlist_positions) - 1 - waitlist_positions[::-1].index(None)
        if None in waitlist_positions
        else -1
    )
    positions = ["" if p is None else str(p) for p in waitlist_positions[: last_winner + 1]]
    positions.extend(map(str, waitlist_positions[last_winner + 1 :]))
    ranks = list(map(str, range(1, len(refs) + 1)))
    columns = (refs, ranks, strata, tickets, application_ids, positions)
    for start in range(0, len(refs), size):
        stop = min(start + size, len(refs))
        lines = map("\t".join, zip(*(column[start:stop] for column in columns), strict=True))
        yield start + 1, stop, tickets[start], "\n" + "\n".join(lines) + "\n"
