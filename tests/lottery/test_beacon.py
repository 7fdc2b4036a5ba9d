"""The drand client against a real local HTTP server serving recorded rounds."""

from __future__ import annotations

import hashlib
import socket

import pytest

from lottery.beacon import (
    BeaconNotAvailableError,
    BeaconVerificationError,
    drand_fetch,
    drand_verify_round,
)
from tests.lottery.drand_server import QUICKNET, ROUND_123, drand_server


def _fetch(base, round_number=123, **kwargs):
    kwargs.setdefault("retry_wait", 0.01)
    return drand_fetch(base_url=base, chain_hash=QUICKNET, round_number=round_number, **kwargs)


def test_real_round_is_fetched_and_verified():
    with drand_server({123: ROUND_123}) as (base, log):
        fetched = _fetch(base)
    assert fetched.randomness == ROUND_123["randomness"]
    assert fetched.signature == ROUND_123["signature"]
    assert log == [f"/{QUICKNET}/public/123"]


def test_client_retries_until_the_round_exists():
    with drand_server({123: ROUND_123}, not_yet=2) as (base, log):
        fetched = _fetch(base, attempts=5)
    assert fetched.round == 123
    assert len(log) == 3


def test_round_that_does_not_exist_yet_is_not_available():
    with drand_server({}) as (base, log), pytest.raises(BeaconNotAvailableError):
        _fetch(base, attempts=3)
    assert len(log) == 3


def test_tampered_signature_is_rejected_even_when_randomness_matches_it():
    signature = "a" + ROUND_123["signature"][1:]
    forged = {
        "round": 123,
        "signature": signature,
        "randomness": hashlib.sha256(bytes.fromhex(signature)).hexdigest(),
    }
    with (
        drand_server({123: forged}) as (base, _),
        pytest.raises(BeaconVerificationError, match="BLS signature does not verify"),
    ):
        _fetch(base)


def test_randomness_that_is_not_the_hash_of_the_signature_is_rejected():
    wrong = dict(ROUND_123, randomness="0" * 64)
    with (
        drand_server({123: wrong}) as (base, _),
        pytest.raises(BeaconVerificationError, match="SHA-256"),
    ):
        _fetch(base)


def test_a_real_signature_served_for_another_round_is_rejected():
    replayed = dict(ROUND_123, round=124)
    with drand_server({124: replayed}) as (base, _), pytest.raises(BeaconVerificationError):
        _fetch(base, round_number=124)


def test_answer_for_a_different_round_is_rejected():
    with (
        drand_server({124: ROUND_123}) as (base, _),
        pytest.raises(BeaconVerificationError, match="answered round 123"),
    ):
        _fetch(base, round_number=124)


def test_malformed_answer_is_rejected():
    with (
        drand_server({123: {"round": 123}}) as (base, _),
        pytest.raises(BeaconVerificationError, match="malformed"),
    ):
        _fetch(base)


def test_non_hex_signature_is_rejected_without_reaching_the_bls_library():
    with pytest.raises(BeaconVerificationError, match="hex"):
        drand_verify_round(
            chain_hash=QUICKNET, round_number=123, randomness="0" * 64, signature="zz"
        )


def test_unknown_chain_cannot_be_used():
    with pytest.raises(BeaconVerificationError, match="not drand quicknet"):
        drand_verify_round(
            chain_hash="0" * 64,
            round_number=123,
            randomness=ROUND_123["randomness"],
            signature=ROUND_123["signature"],
        )


def test_unreachable_beacon_is_not_available():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(BeaconNotAvailableError, match="cannot reach"):
        _fetch(f"http://127.0.0.1:{port}", attempts=2, timeout=1)
