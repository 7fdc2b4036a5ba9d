"""A draw configuration outside the spec is refused with an error naming the field."""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from lottery.draw import (
    QUICKNET_CHAIN_HASH,
    Beacon,
    DrawInputError,
    drand_first_round_after,
    drand_round_time,
    draw_from_input,
    entrants_digest,
    entrants_from_text,
    entrants_text,
    parse_input,
    validate_beacon_schedule,
)
from tests.lottery.helpers import vector

BASE = vector("strata-reserved-cap")["input"]


def changed(**changes):
    data = copy.deepcopy(BASE)
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (changed(draw_id="Wuhan 2026"), "draw_id"),
        (changed(draw_id=""), "draw_id"),
        (changed(draw_id="x" * 65), "draw_id"),
        (changed(winners=-1), "winners"),
        (changed(winners="10"), "winners"),
        (changed(winners=True), "winners"),
        (changed(quotas={"first-time": {"reserved": 11, "cap": None}}), "quotas"),
        (changed(quotas={"first-time": {"reserved": 4, "cap": 3}}), "quotas.first-time.cap"),
        (
            changed(quotas={"first-time": {"reserved": -1, "cap": None}}),
            "quotas.first-time.reserved",
        ),
        (changed(quotas={"First Time": {"reserved": 1, "cap": None}}), "quotas.First Time"),
        (changed(quotas=[]), "quotas"),
        (changed(entrants=[{"ref": "sl-0001", "stratum": ""}]), "entrants[0].ref"),
        (changed(entrants=[{"ref": "A" * 33, "stratum": ""}]), "entrants[0].ref"),
        (
            changed(entrants=[{"ref": "A", "stratum": ""}, {"ref": "", "stratum": ""}]),
            "entrants[1].ref",
        ),
        (changed(entrants=[{"ref": "A\nB", "stratum": ""}]), "entrants[0].ref"),
        (changed(entrants=[{"ref": "A", "stratum": "Bad"}]), "entrants[0].stratum"),
        (changed(entrants=[{"ref": "A", "stratum": ""}, {"ref": "A", "stratum": ""}]), "entrants"),
        (changed(entrants=[{"stratum": ""}]), "entrants[0]"),
        (changed(entrants=None), "entrants"),
        (changed(beacon={"source": "coin"}), "beacon.source"),
        (changed(beacon={**BASE["beacon"], "randomness": "00" * 32}), "beacon.randomness"),
        (changed(beacon={**BASE["beacon"], "signature": "xyz"}), "beacon.signature"),
        (changed(beacon={**BASE["beacon"], "round": 0}), "beacon.round"),
        (changed(beacon={**BASE["beacon"], "chain_hash": "ABC"}), "beacon.chain_hash"),
        (
            changed(beacon={"source": "declared", "description": "x", "value": "a\nb"}),
            "beacon.value",
        ),
        (
            changed(beacon={"source": "declared", "description": "", "value": "a"}),
            "beacon.description",
        ),
    ],
)
def test_bad_input_is_refused_naming_the_field(data, field):
    with pytest.raises(DrawInputError) as caught:
        draw_from_input(data)
    assert caught.value.field == field
    assert str(caught.value).startswith(field)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("A-1\tx\nB-2\ty", "entrants"),  # the last line without its newline
        ("A-1\tx\nB-2\n", "entrants[1]"),  # no stratum
        ("A-1\tx\tz\n", "entrants[0]"),  # a tab inside the stratum
        ("A-1\tx\nb-2\ty\n", "entrants[1].ref"),  # lower case reference
        ("A-1\tX\n", "entrants[0].stratum"),  # upper case stratum
        (f"{'A' * 33}\tx\n", "entrants[0].ref"),  # 33 characters
        ("\tx\n", "entrants[0].ref"),  # empty reference
    ],
)
def test_a_malformed_entrants_text_is_refused_naming_the_line(text, field):
    with pytest.raises(DrawInputError) as caught:
        entrants_from_text(text)
    assert caught.value.field == field


def test_an_entrants_text_reads_back_to_its_entrants_and_digest():
    refs, strata = ["A-1", "B-2", "C-3"], ["x", "", "first-time"]
    text = entrants_text(refs, strata)
    assert text == "A-1\tx\nB-2\t\nC-3\tfirst-time\n"
    assert entrants_from_text(text) == (refs, strata)
    assert entrants_from_text("") == ([], [])
    assert entrants_digest(refs, strata) == hashlib.sha256(text.encode()).hexdigest()


def test_a_draw_before_the_beacon_value_exists_is_refused():
    data = changed(beacon={"source": "drand", "chain_hash": QUICKNET_CHAIN_HASH, "round": 5})
    with pytest.raises(DrawInputError) as caught:
        draw_from_input(data)
    assert caught.value.field.startswith("beacon")
    announced = parse_input(data, require_beacon_value=False)
    assert announced.beacon.randomness is None


def test_a_beacon_round_not_after_entries_close_is_refused():
    close = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
    first_after = drand_first_round_after(close, delay=timedelta(0))
    assert drand_round_time(first_after) > close
    assert drand_round_time(first_after - 1) <= close
    for bad in (first_after - 1, first_after - 1000):
        with pytest.raises(DrawInputError) as caught:
            validate_beacon_schedule(
                Beacon(source="drand", chain_hash=QUICKNET_CHAIN_HASH, round=bad), close
            )
        assert caught.value.field == "beacon.round"
    validate_beacon_schedule(
        Beacon(source="drand", chain_hash=QUICKNET_CHAIN_HASH, round=first_after), close
    )


def test_default_beacon_round_is_at_least_ten_minutes_after_close():
    close = datetime(2026, 12, 1, 16, 0, 1, tzinfo=UTC)
    chosen = drand_first_round_after(close)
    assert drand_round_time(chosen) >= close + timedelta(minutes=10)
    assert drand_round_time(chosen - 1) < close + timedelta(minutes=10)


def test_quicknet_round_times_follow_genesis_and_period():
    assert drand_round_time(1).timestamp() == 1692803367
    assert drand_round_time(123).timestamp() == 1692803367 + 122 * 3
