"""The recomputation process's own reading of the spec's waitlist positions (lottery.cross_check):
it must write the ranking text exactly as the draw stores it, whoever holds rank 1."""

from lottery import cross_check, ranking


def _text(chosen: list[bool]) -> str:
    """The ranking text the draw stores for these outcomes (lottery.ranking)."""
    n = len(chosen)
    positions, waiting = [], 0
    for winner in chosen:
        waiting += not winner
        positions.append(None if winner else waiting)
    refs = [f"R{i}" for i in range(n)]
    blocks = ranking.blocks_text(refs, [""] * n, ["t"] * n, ["1"] * n, positions, n or 1)
    return "".join(lines for *_head, lines in blocks)


def test_waitlist_positions_count_from_one_when_rank_one_is_waitlisted():
    # Reserved seats further down can leave rank 1 on the waitlist.
    assert cross_check._waitlist_positions([False, True, False, False]) == ["1", "", "2", "3"]
    assert cross_check._waitlist_positions([True, False, True, False]) == ["", "1", "", "2"]
    assert cross_check._waitlist_positions([False, False]) == ["1", "2"]
    assert cross_check._waitlist_positions([True]) == [""]
    assert cross_check._waitlist_positions([]) == []


def test_positions_read_back_from_the_stored_text_match():
    chosen = [False, True, False, True, False]
    stored = [line.split("\t")[5] for line in _text(chosen).strip("\n").split("\n")]
    assert stored == cross_check._waitlist_positions(chosen)
