"""Withdrawals and promotions follow the spec's rule, in the draw code and in the verifier."""

from __future__ import annotations

import json

from lottery.draw import PromotionState, Quota, draw_from_input, promotion_pick
from tests.lottery.helpers import record_from_vector, run_verifier, vector


def test_vacated_reserved_seat_goes_to_the_same_stratum_first():
    pick = promotion_pick(
        withdrawn_stratum="first-time",
        winner_counts={"first-time": 3, "returning": 1},
        quotas={"first-time": Quota(4, None)},
        candidates=iter([("A", "returning"), ("B", ""), ("C", "first-time"), ("D", "first-time")]),
    )
    assert pick == ("C", "first-time")


def test_when_no_one_of_the_stratum_is_left_any_entrant_below_cap_qualifies():
    pick = promotion_pick(
        withdrawn_stratum="rare",
        winner_counts={"rare": 0, "common": 2},
        quotas={"rare": Quota(1, 1), "common": Quota(0, 2)},
        candidates=iter([("A", "common"), ("B", "")]),
    )
    assert pick == ("B", "")


def test_an_open_seat_skips_strata_at_their_cap():
    pick = promotion_pick(
        withdrawn_stratum="",
        winner_counts={"returning": 3, "": 6},
        quotas={"returning": Quota(0, 3)},
        candidates=iter([("A", "returning"), ("B", "returning"), ("C", "")]),
    )
    assert pick == ("C", "")


def test_no_one_left_means_no_promotion():
    assert (
        promotion_pick(
            withdrawn_stratum="",
            winner_counts={"a": 1},
            quotas={"a": Quota(0, 1)},
            candidates=iter([("A", "a")]),
        )
        is None
    )


def _replay(v):
    result = draw_from_input(v["input"])
    quotas = {s: Quota(q.get("reserved", 0), q.get("cap")) for s, q in v["input"]["quotas"].items()}
    return result, PromotionState.from_result(result, quotas)


def test_state_replay_promotes_the_first_waitlisted_in_rank_order():
    v = vector("declared-beacon")
    result, state = _replay(v)
    first_winner = result.refs[0]
    first_waiting = result.refs[result.waitlist_positions.index(1)]
    assert state.withdraw(first_winner) == first_waiting
    # A waitlisted entrant who withdraws frees no seat.
    second_waiting = result.refs[result.waitlist_positions.index(2)]
    assert state.withdraw(second_waiting) is None
    # The next vacancy skips the withdrawn entrant.
    third_waiting = result.refs[result.waitlist_positions.index(3)]
    assert state.withdraw(first_waiting) == third_waiting


def _record_with_events(v, withdrawals, promotions):
    record = record_from_vector(v)
    record["withdrawals"] = withdrawals
    record["promotions"] = promotions
    return record


def test_verifier_accepts_correct_promotions_and_reports_wrong_ones(tmp_path):
    v = vector("strata-reserved-cap")
    result, state = _replay(v)
    reserved_winner = next(
        ref
        for ref, s, f in zip(result.refs, result.strata, result.winner_flags, strict=True)
        if f and s == "first-time"
    )
    promoted = state.withdraw(reserved_winner)
    assert promoted is not None
    withdrawals = [{"ref": reserved_winner, "reason": "declined", "at": "2026-12-02T10:00:00Z"}]
    good = [{"ref": promoted, "replaces": reserved_winner, "at": "2026-12-02T10:00:00Z"}]
    path = tmp_path / "good.json"
    path.write_text(json.dumps(_record_with_events(v, withdrawals, good)))
    completed = run_verifier(path)
    assert completed.returncode == 0, completed.stdout.decode()

    # Someone further down the waitlist, promoted out of turn, is caught.
    waiting = [r for r, f in zip(result.refs, result.winner_flags, strict=True) if not f]
    other = next(r for r in reversed(waiting) if r != promoted)
    bad = [{"ref": other, "replaces": reserved_winner, "at": "2026-12-02T10:00:00Z"}]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(_record_with_events(v, withdrawals, bad)))
    completed = run_verifier(path)
    out = completed.stdout.decode()
    assert completed.returncode == 1
    assert f"promotes '{other}' for {reserved_winner}; the spec gives {promoted}" in out

    # A withdrawal of a winner with no promotion recorded is reported.
    path = tmp_path / "missing.json"
    path.write_text(json.dumps(_record_with_events(v, withdrawals, [])))
    out = run_verifier(path).stdout.decode()
    assert f"{promoted} should have been promoted" in out

    # A reason outside the spec's list is reported.
    odd = [{"ref": reserved_winner, "reason": "bored", "at": "2026-12-02T10:00:00Z"}]
    path = tmp_path / "reason.json"
    path.write_text(json.dumps(_record_with_events(v, odd, good)))
    out = run_verifier(path).stdout.decode()
    assert "reason 'bored'" in out
