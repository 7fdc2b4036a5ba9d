"""drand beacon client, free of Django (the caller passes the base URL from settings).

A round is used only after two checks: randomness = SHA-256(signature), and the BLS
signature verifies against the chain's public key (``drand_verify``). A round failing
either raises ``BeaconVerificationError`` and must never reach a draw.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from lottery.draw import QUICKNET_CHAIN_HASH, drand_round_time

_HEX_RE = re.compile(r"(?:[0-9a-f]{2})+")
_HEX64_RE = re.compile(r"[0-9a-f]{64}")


class BeaconError(Exception):
    """Base class for beacon problems."""


class BeaconNotAvailableError(BeaconError):
    """The round does not exist yet or the beacon could not be reached: try again later."""


class BeaconVerificationError(BeaconError):
    """The beacon answered with a round that does not verify: never use it, alert staff."""


@dataclass(frozen=True)
class DrandRound:
    chain_hash: str
    round: int
    randomness: str
    signature: str


def _bls_verifier(chain_hash: str) -> Callable[[int, str], str]:
    if chain_hash != QUICKNET_CHAIN_HASH:
        raise BeaconVerificationError(
            f"chain {chain_hash} is not drand quicknet: its signatures cannot be verified"
        )
    import drand_verify  # a required dependency of the portal

    return drand_verify.verify_quicknet


def drand_verify_round(*, chain_hash: str, round_number: int, randomness: str, signature: str):
    """Raise BeaconVerificationError unless the round is authentic."""
    if not isinstance(signature, str) or not _HEX_RE.fullmatch(signature):
        raise BeaconVerificationError("signature is not lowercase hex")
    if not isinstance(randomness, str) or not _HEX64_RE.fullmatch(randomness):
        raise BeaconVerificationError("randomness is not 64 lowercase hex digits")
    if hashlib.sha256(bytes.fromhex(signature)).hexdigest() != randomness:
        raise BeaconVerificationError("randomness is not SHA-256 of the signature")
    verify = _bls_verifier(chain_hash)
    try:
        proven = verify(round_number, signature)
    except ValueError as error:
        raise BeaconVerificationError(f"BLS signature does not verify: {error}") from error
    if proven != randomness:
        raise BeaconVerificationError("BLS-verified randomness differs from the one given")


def drand_fetch(
    *,
    base_url: str,
    chain_hash: str,
    round_number: int,
    timeout: float = 10.0,
    attempts: int = 3,
    retry_wait: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> DrandRound:
    """GET {base_url}/{chain_hash}/public/{round}, retrying while the round does not exist
    yet or the server fails; the answer is verified before it is returned."""
    url = f"{base_url.rstrip('/')}/{chain_hash}/public/{round_number}"
    last_problem = "no attempt made"
    for attempt in range(max(1, attempts)):
        if attempt:
            sleep(retry_wait)
        try:
            request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                body = response.read(65536)
        except urllib.error.HTTPError as error:
            # drand answers 404 (or 425 Too Early) for a round still in the future.
            last_problem = f"HTTP {error.code} from {url}"
            if error.code in (404, 425, 429) or error.code >= 500:
                continue
            raise BeaconNotAvailableError(last_problem) from error
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            last_problem = f"cannot reach {url}: {error}"
            continue
        try:
            data = json.loads(body)
            answered_round = data["round"]
            randomness = data["randomness"]
            signature = data["signature"]
        except (ValueError, KeyError, TypeError) as error:
            raise BeaconVerificationError(f"malformed answer from {url}: {error}") from error
        if answered_round != round_number:
            raise BeaconVerificationError(
                f"asked for round {round_number}, the beacon answered round {answered_round!r}"
            )
        drand_verify_round(
            chain_hash=chain_hash,
            round_number=round_number,
            randomness=randomness,
            signature=signature,
        )
        return DrandRound(chain_hash, round_number, randomness, signature)
    raise BeaconNotAvailableError(last_problem)


def drand_round_available_at(round_number: int, chain_hash: str = QUICKNET_CHAIN_HASH) -> datetime:
    """When the round should exist (fetching earlier only wastes requests)."""
    return drand_round_time(round_number, chain_hash)


def drand_public_url(base_url: str, chain_hash: str, round_number: int) -> str:
    """The public address of a round, shown on the draw page as its source."""
    return f"{base_url.rstrip('/')}/{chain_hash}/public/{round_number}"
