"""The suanli-draw/1 computation (docs/lottery-spec.md), free of Django.

Everything here is a pure function of published inputs, so the portal's Celery task, its
fairness cross-check and the tests all call the same code. The standalone verifier
(``lottery/verify_draw.py``) deliberately re-implements the same steps in its own way.

Speed matters because a draw may hold a million entrants: entrants travel as two parallel
lists (references and strata) rather than one dict per entrant, tickets are hashed in one
comprehension, and ranking sorts integer positions by ticket instead of comparing tuples.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from operator import itemgetter, lt
from typing import Any

SPEC = "suanli-draw/1"

QUICKNET_CHAIN_HASH = "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971"
QUICKNET_GENESIS = 1692803367
QUICKNET_PERIOD = 3
# Genesis and period of the drand chains whose round times we know.
DRAND_CHAINS: dict[str, tuple[int, int]] = {
    QUICKNET_CHAIN_HASH: (QUICKNET_GENESIS, QUICKNET_PERIOD),
}

OUTCOME_WINNER = "winner"
OUTCOME_WAITLIST = "waitlist"
WITHDRAWAL_REASONS = ("declined", "disqualified", "not_accepted")

MAX_REF_LENGTH = 32
MAX_STRATUM_LENGTH = 64
MAX_DRAW_ID_LENGTH = 64

_DRAW_ID_RE = re.compile(r"[a-z0-9-]{1,64}")
_REF_RE = re.compile(r"[A-Z0-9-]{1,32}")
_STRATUM_RE = re.compile(r"[a-z0-9-]{0,64}")
_HEX64_RE = re.compile(r"[0-9a-f]{64}")
_HEX_RE = re.compile(r"(?:[0-9a-f]{2})+")
# Checks a whole newline-joined list of references in one C-level pass.
_REF_CHARS_RE = re.compile(r"[A-Z0-9\n-]*")
# A whole entrants text, ``ref TAB stratum LF`` per entrant with each field as the spec allows,
# in one C-level pass (possessive, so it never backtracks: 18 MB in about 0.05 s).
_ENTRANTS_TEXT_RE = re.compile(r"(?:[A-Z0-9-]{1,32}+\t[a-z0-9-]{0,64}+\n)*+")
_STRATUM_CHARS_RE = re.compile(r"[a-z0-9\n-]*")


class DrawInputError(ValueError):
    """A draw input outside the spec; ``field`` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Quota:
    reserved: int = 0
    cap: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"reserved": self.reserved, "cap": self.cap}


NO_QUOTA = Quota()


@dataclass(frozen=True)
class Beacon:
    """A drand round or a declared public value; value fields are None before the draw."""

    source: str
    chain_hash: str = ""
    round: int | None = None
    randomness: str | None = None
    signature: str | None = None
    description: str = ""
    value: str | None = None

    @property
    def has_value(self) -> bool:
        if self.source == "drand":
            return self.randomness is not None
        return self.value is not None

    def line(self) -> str:
        if self.source == "drand":
            return f"drand {self.chain_hash} {self.round} {self.randomness}"
        return f"declared {self.value}"

    def as_dict(self) -> dict[str, Any]:
        if self.source == "drand":
            return {
                "source": "drand",
                "chain_hash": self.chain_hash,
                "round": self.round,
                "randomness": self.randomness,
                "signature": self.signature,
            }
        return {"source": "declared", "description": self.description, "value": self.value}


@dataclass
class DrawInput:
    draw_id: str
    winners: int
    quotas: dict[str, Quota]
    refs: list[str]
    strata: list[str]
    beacon: Beacon
    # The entrants' text (``entrants_text``) when the caller read refs and strata from it
    # (``entrants_from_text``): the digest is then its hash, without building it again.
    text: str | None = field(default=None, repr=False)


@dataclass
class DrawResult:
    """Results in rank order, as parallel columns (rank of position i is i + 1)."""

    entrants_digest: str
    seed: str
    refs: list[str]
    strata: list[str]
    tickets: list[str]
    winner_flags: bytearray
    waitlist_positions: list[int | None] = field(repr=False)
    # order[i] is the input position (in ``DrawInput.refs``) of the entrant ranked i + 1, so
    # values kept beside the entrants (application ids) follow the ranking without a lookup.
    order: list[int] = field(default_factory=list, repr=False)

    def __len__(self) -> int:
        return len(self.refs)

    def outcome(self, index: int) -> str:
        return OUTCOME_WINNER if self.winner_flags[index] else OUTCOME_WAITLIST

    def rows(self) -> Iterable[tuple[str, str, str, int, str, int | None]]:
        """(ref, stratum, ticket, rank, outcome, waitlist_position) in rank order."""
        outcomes = (OUTCOME_WAITLIST, OUTCOME_WINNER)
        for i, (ref, stratum, ticket, flag, position) in enumerate(
            zip(
                self.refs,
                self.strata,
                self.tickets,
                self.winner_flags,
                self.waitlist_positions,
                strict=True,
            ),
            start=1,
        ):
            yield ref, stratum, ticket, i, outcomes[flag], position

    def results_as_dicts(self) -> list[dict[str, Any]]:
        return [
            {
                "ref": ref,
                "stratum": stratum,
                "ticket": ticket,
                "rank": rank,
                "outcome": outcome,
                "waitlist_position": position,
            }
            for ref, stratum, ticket, rank, outcome, position in self.rows()
        ]


# --- validation -------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_draw_id(draw_id: Any) -> str:
    if not isinstance(draw_id, str) or not _DRAW_ID_RE.fullmatch(draw_id):
        raise DrawInputError("draw_id", "must be 1-64 characters from a-z, 0-9 and '-'")
    return draw_id


def validate_winners(winners: Any) -> int:
    if not _is_int(winners) or winners < 0:
        raise DrawInputError("winners", "must be an integer of 0 or more")
    return winners


def validate_quotas(quotas: Any, winners: int) -> dict[str, Quota]:
    """Return quotas as Quota objects; accepts the record's JSON form or Quota values."""
    if not isinstance(quotas, Mapping):
        raise DrawInputError("quotas", "must be an object mapping a stratum to its quota")
    result: dict[str, Quota] = {}
    total_reserved = 0
    for stratum, quota in quotas.items():
        where = f"quotas.{stratum}"
        if not isinstance(stratum, str) or not _STRATUM_RE.fullmatch(stratum):
            raise DrawInputError(where, "stratum must be 0-64 characters from a-z, 0-9 and '-'")
        if isinstance(quota, Quota):
            reserved, cap = quota.reserved, quota.cap
        elif isinstance(quota, Mapping):
            unknown = set(quota) - {"reserved", "cap"}
            if unknown:
                raise DrawInputError(where, f"unknown keys {sorted(unknown)}")
            reserved, cap = quota.get("reserved", 0), quota.get("cap")
        else:
            raise DrawInputError(where, "must be an object with 'reserved' and 'cap'")
        if not _is_int(reserved) or reserved < 0:
            raise DrawInputError(f"{where}.reserved", "must be an integer of 0 or more")
        if cap is not None and (not _is_int(cap) or cap < reserved):
            raise DrawInputError(f"{where}.cap", "must be null or an integer >= reserved")
        total_reserved += reserved
        result[stratum] = Quota(reserved=reserved, cap=cap)
    if total_reserved > winners:
        raise DrawInputError(
            "quotas",
            f"reserved seats add up to {total_reserved}, more than winners ({winners})",
        )
    return result


def _first_bad(values: Sequence[Any], pattern: re.Pattern[str]) -> int:
    for index, value in enumerate(values):
        if not isinstance(value, str) or not pattern.fullmatch(value):
            return index
    return -1


def validate_entrants(refs: Sequence[Any], strata: Sequence[Any]) -> None:
    """Check every reference and stratum; duplicates are caught while sorting."""
    if len(refs) != len(strata):
        raise DrawInputError("entrants", "references and strata differ in length")
    n = len(refs)
    if not n:
        return
    try:
        joined = "\n".join(refs)
    except TypeError:
        joined = None
    # One regex pass over all references; fall back to a per-entrant scan to name the field.
    if (
        joined is None
        or not _REF_CHARS_RE.fullmatch(joined)
        or joined.count("\n") != n - 1
        or min(map(len, refs)) < 1
        or max(map(len, refs)) > MAX_REF_LENGTH
    ):
        index = _first_bad(refs, _REF_RE)
        raise DrawInputError(
            f"entrants[{index}].ref",
            f"{refs[index]!r} must be 1-32 characters from A-Z, 0-9 and '-'",
        )
    distinct = set(strata)
    for stratum in distinct:
        if not isinstance(stratum, str) or not _STRATUM_RE.fullmatch(stratum):
            index = strata.index(stratum)
            raise DrawInputError(
                f"entrants[{index}].stratum",
                f"{stratum!r} must be 0-64 characters from a-z, 0-9 and '-'",
            )


def validate_beacon(beacon: Any, *, require_value: bool = True) -> Beacon:
    """Return a Beacon from the record's JSON form (or a Beacon); value fields may be None
    only when ``require_value`` is False (before the draw)."""
    if isinstance(beacon, Beacon):
        beacon = beacon.as_dict()
    if not isinstance(beacon, Mapping):
        raise DrawInputError("beacon", "must be an object")
    source = beacon.get("source")
    if source == "drand":
        chain_hash = beacon.get("chain_hash")
        if not isinstance(chain_hash, str) or not _HEX64_RE.fullmatch(chain_hash):
            raise DrawInputError("beacon.chain_hash", "must be 64 lowercase hex characters")
        round_number = beacon.get("round")
        if not _is_int(round_number) or round_number < 1:
            raise DrawInputError("beacon.round", "must be a positive integer")
        randomness = beacon.get("randomness")
        signature = beacon.get("signature")
        if randomness is None and signature is None and not require_value:
            return Beacon(source="drand", chain_hash=chain_hash, round=round_number)
        if not isinstance(randomness, str) or not _HEX64_RE.fullmatch(randomness):
            raise DrawInputError("beacon.randomness", "must be 64 lowercase hex characters")
        if not isinstance(signature, str) or not _HEX_RE.fullmatch(signature):
            raise DrawInputError("beacon.signature", "must be lowercase hex")
        if hashlib.sha256(bytes.fromhex(signature)).hexdigest() != randomness:
            raise DrawInputError("beacon.randomness", "is not SHA-256 of the signature")
        return Beacon(
            source="drand",
            chain_hash=chain_hash,
            round=round_number,
            randomness=randomness,
            signature=signature,
        )
    if source == "declared":
        description = beacon.get("description")
        if not isinstance(description, str) or not description.strip():
            raise DrawInputError("beacon.description", "must name the public event")
        value = beacon.get("value")
        if value is None and not require_value:
            return Beacon(source="declared", description=description)
        if not isinstance(value, str) or not value or "\n" in value or "\r" in value:
            raise DrawInputError("beacon.value", "must be a non-empty string without newline")
        return Beacon(source="declared", description=description, value=value)
    raise DrawInputError("beacon.source", "must be 'drand' or 'declared'")


def drand_round_time(round_number: int, chain_hash: str = QUICKNET_CHAIN_HASH) -> datetime:
    """When a drand round is published: genesis + (round - 1) * period."""
    genesis, period = DRAND_CHAINS[chain_hash]
    return datetime.fromtimestamp(genesis + (round_number - 1) * period, tz=UTC)


def drand_first_round_after(
    moment: datetime,
    *,
    delay: timedelta = timedelta(minutes=10),
    chain_hash: str = QUICKNET_CHAIN_HASH,
) -> int:
    """The first round published at least ``delay`` after ``moment`` and strictly after it
    (the spec requires the beacon to be unknowable when entries close)."""
    genesis, period = DRAND_CHAINS[chain_hash]
    target = (moment + delay).timestamp()
    after = moment.timestamp()
    round_number = max(1, int((target - genesis) // period))
    while (
        genesis + (round_number - 1) * period < target
        or genesis + (round_number - 1) * period <= after
    ):
        round_number += 1
    return round_number


def validate_beacon_schedule(beacon: Beacon, entries_close_at: datetime) -> None:
    """A drand round on a known chain must be published after entries close."""
    if beacon.source != "drand" or beacon.chain_hash not in DRAND_CHAINS:
        return
    assert beacon.round is not None
    if drand_round_time(beacon.round, beacon.chain_hash) <= entries_close_at:
        raise DrawInputError(
            "beacon.round",
            f"round {beacon.round} is published at "
            f"{drand_round_time(beacon.round, beacon.chain_hash):%Y-%m-%dT%H:%M:%SZ}, "
            f"not after entries close ({entries_close_at:%Y-%m-%dT%H:%M:%SZ})",
        )


def parse_input(data: Mapping[str, Any], *, require_beacon_value: bool = True) -> DrawInput:
    """Validate a draw input in the record's JSON form (as in the test vectors)."""
    if not isinstance(data, Mapping):
        raise DrawInputError("input", "must be an object")
    draw_id = validate_draw_id(data.get("draw_id"))
    winners = validate_winners(data.get("winners"))
    quotas = validate_quotas(data.get("quotas", {}), winners)
    entrants = data.get("entrants")
    if not isinstance(entrants, list):
        raise DrawInputError("entrants", "must be a list of {ref, stratum}")
    refs: list[Any] = []
    strata: list[Any] = []
    for index, entrant in enumerate(entrants):
        if not isinstance(entrant, Mapping) or "ref" not in entrant:
            raise DrawInputError(f"entrants[{index}]", "must be an object with 'ref'")
        refs.append(entrant["ref"])
        strata.append(entrant.get("stratum", ""))
    validate_entrants(refs, strata)
    beacon = validate_beacon(data.get("beacon"), require_value=require_beacon_value)
    return DrawInput(draw_id, winners, quotas, refs, strata, beacon)


# --- computation ------------------------------------------------------------------------


def _ref_order(refs: list[str]) -> list[int] | None:
    """Input positions in byte order of ref (references are ASCII, so str order is byte
    order), or None when the list is already strictly ascending; refuses duplicates."""
    if all(map(lt, refs, islice(refs, 1, None))):
        return None
    order = sorted(range(len(refs)), key=refs.__getitem__)
    for a, b in zip(order, islice(order, 1, None), strict=False):
        if refs[a] == refs[b]:
            raise DrawInputError("entrants", f"reference {refs[a]} appears more than once")
    return order


def sort_entrants(refs: list[str], strata: list[str]) -> tuple[list[str], list[str]]:
    """Entrants in byte order of ref; refuses duplicates, naming the reference."""
    order = _ref_order(refs)
    if order is None:
        return refs, strata
    return [refs[i] for i in order], [strata[i] for i in order]


def entrants_text(sorted_refs: Sequence[str], sorted_strata: Sequence[str]) -> str:
    """The published entrants text: ``ref TAB stratum LF`` lines, entrants sorted by ref."""
    if not sorted_refs:
        return ""
    return "\n".join(map("\t".join, zip(sorted_refs, sorted_strata, strict=True))) + "\n"


def entrants_digest(sorted_refs: Sequence[str], sorted_strata: Sequence[str]) -> str:
    """SHA-256 of ``ref TAB stratum LF`` lines, entrants already sorted by ref."""
    return text_digest(entrants_text(sorted_refs, sorted_strata))


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def entrants_from_text(text: str) -> tuple[list[str], list[str]]:
    """References and strata of an entrants text (``entrants_text``), the text checked whole
    first: one reference and one stratum per line, each as the spec allows. A bad line raises
    DrawInputError naming it. The order is not checked here (``sort_entrants`` does)."""
    if not _ENTRANTS_TEXT_RE.fullmatch(text):
        _entrants_text_problem(text)
    if not text:
        return [], []
    fields = text[:-1].replace("\n", "\t").split("\t")
    return fields[0::2], fields[1::2]


def _entrants_text_problem(text: str) -> None:
    """Raise DrawInputError naming the first line of ``text`` that is not an entrant."""
    if not text.endswith("\n"):
        raise DrawInputError("entrants", "the last line must end with a newline")
    refs, strata = [], []
    for index, line in enumerate(text[:-1].split("\n")):
        ref, tab, stratum = line.partition("\t")
        if not tab or "\t" in stratum:
            raise DrawInputError(
                f"entrants[{index}]", f"{line!r} must be a reference, a tab and a stratum"
            )
        refs.append(ref)
        strata.append(stratum)
    validate_entrants(refs, strata)  # names the reference or stratum
    raise DrawInputError("entrants", "not a list of entrants")  # not reached: the checks agree


def compute_seed(draw_id: str, digest: str, beacon_line: str) -> str:
    message = f"{SPEC}\n{draw_id}\n{digest}\n{beacon_line}\n"
    return hashlib.sha256(message.encode()).hexdigest()


def compute_tickets(seed_hex: str, refs: Iterable[str]) -> list[str]:
    sha256 = hashlib.sha256
    prefix = f"{seed_hex}:".encode()
    return [sha256(prefix + ref).hexdigest() for ref in map(str.encode, refs)]


def ticket_for(seed_hex: str, ref: str) -> str:
    return hashlib.sha256(f"{seed_hex}:{ref}".encode()).hexdigest()


def select_winners(
    strata_in_rank_order: Sequence[str], winners: int, quotas: Mapping[str, Quota]
) -> bytearray:
    """Step 5: flags (1 = winner) in rank order, by the two passes."""
    selected = bytearray(len(strata_in_rank_order))
    counts: dict[str, int] = {}
    total = 0
    need = {stratum: q.reserved for stratum, q in quotas.items() if q.reserved > 0}
    remaining = sum(need.values())
    if remaining:
        for index, stratum in enumerate(strata_in_rank_order):
            left = need.get(stratum)
            if left:
                selected[index] = 1
                need[stratum] = left - 1
                counts[stratum] = counts.get(stratum, 0) + 1
                total += 1
                remaining -= 1
                if not remaining:
                    break
    if total < winners:
        caps = {stratum: q.cap for stratum, q in quotas.items() if q.cap is not None}
        for index, stratum in enumerate(strata_in_rank_order):
            if selected[index]:
                continue
            cap = caps.get(stratum)
            count = counts.get(stratum, 0)
            if cap is not None and count >= cap:
                continue
            selected[index] = 1
            counts[stratum] = count + 1
            total += 1
            if total >= winners:
                break
    return selected


def waitlist_positions(winner_flags: bytearray) -> list[int | None]:
    positions: list[int | None] = []
    append = positions.append
    position = 0
    for flag in winner_flags:
        if flag:
            append(None)
        else:
            position += 1
            append(position)
    return positions


def run_draw(draw: DrawInput) -> DrawResult:
    """Steps 1-5 of the spec for validated input (see ``parse_input``)."""
    if not draw.beacon.has_value:
        raise DrawInputError("beacon", "has no value yet")
    entrant_order = _ref_order(draw.refs)
    if entrant_order is None:
        refs, strata = draw.refs, draw.strata
    else:
        refs = [draw.refs[i] for i in entrant_order]
        strata = [draw.strata[i] for i in entrant_order]
    if draw.text is not None and entrant_order is None:
        digest = text_digest(draw.text)  # the same bytes entrants_digest would build
    else:
        digest = entrants_digest(refs, strata)
    seed = compute_seed(draw.draw_id, digest, draw.beacon.line())
    tickets = compute_tickets(seed, refs)
    # Refs are already in ascending order, so a stable sort of positions by ticket is
    # exactly the spec's order by (ticket, ref).
    n = len(refs)
    order = sorted(range(n), key=tickets.__getitem__)
    if n > 1:
        pick = itemgetter(*order)
        ranked_refs, ranked_strata, ranked_tickets = (
            list(pick(refs)),
            list(pick(strata)),
            list(pick(tickets)),
        )
    else:
        ranked_refs, ranked_strata, ranked_tickets = list(refs), list(strata), list(tickets)
    flags = select_winners(ranked_strata, draw.winners, draw.quotas)
    if entrant_order is not None:
        order = [entrant_order[i] for i in order]
    return DrawResult(
        entrants_digest=digest,
        seed=seed,
        refs=ranked_refs,
        strata=ranked_strata,
        tickets=ranked_tickets,
        winner_flags=flags,
        waitlist_positions=waitlist_positions(flags),
        order=order,
    )


def draw_from_input(data: Mapping[str, Any]) -> DrawResult:
    """Validate a JSON-form input and run the draw."""
    return run_draw(parse_input(data))


# --- withdrawals and promotions ---------------------------------------------------------


def promotion_pick(
    *,
    withdrawn_stratum: str,
    winner_counts: Mapping[str, int],
    quotas: Mapping[str, Quota],
    candidates: Iterable[tuple[str, str]],
) -> tuple[str, str] | None:
    """Who fills a vacancy left by a withdrawn winner (spec, "Withdrawals and promotions").

    ``winner_counts``: current winners per stratum, the withdrawn winner already removed.
    ``candidates``: (ref, stratum) of entrants still on the waitlist (never winners, not
    withdrawn, not promoted), in rank order; consumed lazily so a database cursor works.
    """

    def below_cap(stratum: str) -> bool:
        cap = quotas.get(stratum, NO_QUOTA).cap
        return cap is None or winner_counts.get(stratum, 0) < cap

    reserved = quotas.get(withdrawn_stratum, NO_QUOTA).reserved
    if winner_counts.get(withdrawn_stratum, 0) < reserved:
        fallback: tuple[str, str] | None = None
        for ref, stratum in candidates:
            if stratum == withdrawn_stratum:
                return ref, stratum
            if fallback is None and below_cap(stratum):
                fallback = (ref, stratum)
        return fallback
    for ref, stratum in candidates:
        if below_cap(stratum):
            return ref, stratum
    return None


@dataclass
class PromotionState:
    """Current winners and waitlist of a completed draw, replaying withdrawals in order."""

    quotas: Mapping[str, Quota]
    ranked: list[tuple[str, str]]
    winners: set[str]
    withdrawn: set[str] = field(default_factory=set)
    promoted: set[str] = field(default_factory=set)

    @classmethod
    def from_result(cls, result: DrawResult, quotas: Mapping[str, Quota]) -> PromotionState:
        ranked = list(zip(result.refs, result.strata, strict=True))
        winners = {ref for ref, flag in zip(result.refs, result.winner_flags, strict=False) if flag}
        return cls(quotas=quotas, ranked=ranked, winners=winners)

    def withdraw(self, ref: str) -> str | None:
        """Record a withdrawal; return the promoted reference, if any."""
        strata = dict(self.ranked)
        if ref not in strata:
            raise DrawInputError("withdrawals.ref", f"{ref} is not an entrant of this draw")
        if ref in self.withdrawn:
            raise DrawInputError("withdrawals.ref", f"{ref} has already withdrawn")
        self.withdrawn.add(ref)
        if ref not in self.winners:
            return None
        self.winners.discard(ref)
        counts: dict[str, int] = {}
        for winner in self.winners:
            counts[strata[winner]] = counts.get(strata[winner], 0) + 1
        candidates = (
            (r, s)
            for r, s in self.ranked
            if r not in self.winners and r not in self.withdrawn and r not in self.promoted
        )
        pick = promotion_pick(
            withdrawn_stratum=strata[ref],
            winner_counts=counts,
            quotas=self.quotas,
            candidates=candidates,
        )
        if pick is None:
            return None
        self.winners.add(pick[0])
        self.promoted.add(pick[0])
        return pick[0]
