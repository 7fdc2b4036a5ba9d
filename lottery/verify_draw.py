#!/usr/bin/env python3
"""Check a Suanli draw record (suanli-draw/1) on your own computer.

Usage:
    python3 verify_draw.py RECORD            # a file path, an http(s) URL, or - for stdin
    python3 verify_draw.py https://example.org/draws/wuhan-2026-r1.json

It recomputes everything the record claims from the record's own published inputs: the
entrants digest, the seed, every ticket, every rank, every outcome and waitlist position,
and the promotions that followed withdrawals. It checks the drand beacon (randomness is
SHA-256 of the signature, and the BLS signature itself when the ``drand-verify`` package is
installed: ``pip install drand-verify``). It prints OK, or every mismatch it finds, and exits
with status 0 only when everything matches (1 on a mismatch, 2 when the record cannot be read).

This file is self-contained on purpose: it uses only the Python standard library and shares
no code with the portal, so it is an independent re-implementation of the published spec.
"""

from __future__ import annotations

import os
import sys

# Run from inside the portal's source tree, this file's folder holds modules named like the
# standard library's (selectors.py): never import from it. The verifier needs only stdlib.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != _HERE]

import argparse  # noqa: E402
import functools  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import urllib.request  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from itertools import islice  # noqa: E402
from operator import lt  # noqa: E402

SPEC = "suanli-draw/1"
QUICKNET = "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971"
KNOWN_CHAINS = {QUICKNET: (1692803367, 3)}  # chain hash: (genesis, period in seconds)
REASONS = {"declined", "disqualified", "not_accepted"}

DRAW_ID = re.compile(r"[a-z0-9-]{1,64}\Z")
REF = re.compile(r"[A-Z0-9-]{1,32}\Z")
STRATUM = re.compile(r"[a-z0-9-]{0,64}\Z")
HEX64 = re.compile(r"[0-9a-f]{64}\Z")
HEX = re.compile(r"(?:[0-9a-f]{2})+\Z")
# References joined by newlines; possessive quantifiers keep a million of them from building
# a backtracking stack.
JOINED_REFS = re.compile(r"(?:[A-Z0-9-]{1,32}+\n)*+[A-Z0-9-]{1,32}+\Z")
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?Z\Z")


class Report:
    """Collects mismatches; prints the first ``limit`` of each kind and counts the rest."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.per_kind: dict[str, int] = {}

    def problem(self, kind: str, message: str) -> None:
        count = self.per_kind.get(kind, 0) + 1
        self.per_kind[kind] = count
        if self.limit <= 0 or count <= self.limit:
            self.problems.append(message)

    def note(self, message: str) -> None:
        self.notes.append(message)

    @property
    def total(self) -> int:
        return sum(self.per_kind.values())


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def refs_look_valid(refs: list) -> bool:
    """All references match [A-Z0-9-]{1,32}, checked with one regex over the joined list
    (a per-reference loop costs seconds on a million entrants). The regex checks the lengths
    too (cheaper than min and max over the list); the newline count proves that the only
    newlines are the ones the join put between references."""
    if not refs:
        return True
    if not set(map(type, refs)) <= {str}:
        return False
    joined = "\n".join(refs)
    return joined.count("\n") == len(refs) - 1 and JOINED_REFS.match(joined) is not None


def parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not TIME.match(value):
        return None
    try:
        return datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)
    except ValueError:
        return None


def load(source: str) -> bytes:
    if source == "-":
        return sys.stdin.buffer.read()
    if source.startswith(("http://", "https://")):
        request = urllib.request.Request(source, headers={"Accept": "application/json"})  # noqa: S310
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.read()
    with open(source, "rb") as handle:
        return handle.read()


# --- the spec, step by step ---------------------------------------------------------------


def digest_of(refs: list[str], strata: list[str]) -> str:
    """Step 1, streaming the lines into SHA-256 in chunks (entrants sorted by ref)."""
    hasher = hashlib.sha256()
    chunk = 65536
    line = "{}\t{}\n".format
    for start in range(0, len(refs), chunk):
        some_refs, some_strata = refs[start : start + chunk], strata[start : start + chunk]
        try:
            text = _joined_lines(some_refs, some_strata)
        except (TypeError, ValueError):  # not all strings, or fewer strata than refs
            text = "".join(map(line, some_refs, some_strata))
        hasher.update(text.encode("utf-8"))
    return hasher.hexdigest()


def _joined_lines(refs: list[str], strata: list[str]) -> str:
    """``ref\tstratum\n`` for every row, as one join over [ref, tab, stratum, newline, ...]
    filled by slice assignment: less than half the time of formatting each line. Raises
    ValueError when the columns differ in length, TypeError when a value is not a string."""
    parts = ["\t"] * (4 * len(refs))
    parts[0::4] = refs
    parts[2::4] = strata
    parts[3::4] = ["\n"] * len(refs)
    return "".join(parts)


def seed_of(draw_id: str, digest: str, beacon_line: str) -> str:
    text = "suanli-draw/1\n" + draw_id + "\n" + digest + "\n" + beacon_line + "\n"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def tickets_of(seed: str, refs: list[str]) -> list[str]:
    """Step 3. Every ticket hashes the same ``seed:`` prefix, so it is hashed once and each
    ticket continues from a copy of that state: copying is cheaper than starting a new hash
    (about a fifth less time per ticket), and the prefix's first 64-byte block is done once."""
    start = hashlib.sha256((seed + ":").encode("ascii"))
    tickets = []
    append = tickets.append
    for r in refs:
        hasher = start.copy()
        hasher.update(r.encode("ascii"))
        append(hasher.hexdigest())
    return tickets


def same_entrants(refs: list[str], strata: list, r_refs: list[str], r_strata: list) -> bool:
    """True when the results list exactly the entrants (no more, none twice), each with its own
    stratum: for every stratum, the same set of references on both sides. Set comparisons run
    in C; a dictionary look-up of each result's stratum costs two to three times as much on a
    million rows. More than 16 strata say False (the caller then compares row by row), as
    they always have: callers rely on the same answers."""
    if len(r_refs) != len(refs):
        return False
    try:
        listed_kinds = set(r_strata)
    except TypeError:  # a list or an object: not a str
        return False
    # No value of another built-in type equals a str, so every result's stratum is a str when
    # the distinct ones are: one pass fewer over a million rows than asking each row's type.
    if not set(map(type, listed_kinds)) <= {str}:
        return False
    kinds = set(strata)
    if len(kinds) > 16 or listed_kinds != kinds:
        return False
    return _refs_by_stratum(refs, strata, kinds) == _refs_by_stratum(r_refs, r_strata, kinds)


def _refs_by_stratum(refs: list[str], strata: list[str], kinds: set) -> dict[str, set[str]]:
    """The set of references of each stratum. One pass sorting the rows into lists, then one
    set per list: a pass per stratum picking its rows (itertools.compress) costs more from
    the third stratum on."""
    lists: dict[str, list[str]] = {kind: [] for kind in kinds}
    for ref, stratum in zip(refs, strata, strict=False):  # unequal columns: as compress did
        lists[stratum].append(ref)
    return {kind: set(some) for kind, some in lists.items()}


def outcomes_of(strata_by_rank: list[str], k: int, quotas: dict) -> list[bool]:
    """Step 5 written as two explicit passes over the rank order."""
    chosen = [False] * len(strata_by_rank)
    taken: dict[str, int] = {}
    unfilled = sum(reserved for reserved, _ in quotas.values())
    for i, s in enumerate(strata_by_rank):  # pass 1: reserved seats
        if not unfilled:
            break  # every reserved seat is taken: the rest of pass 1 selects nobody
        if quotas.get(s, (0, None))[0] > taken.get(s, 0):
            chosen[i] = True
            taken[s] = taken.get(s, 0) + 1
            unfilled -= 1
    seats = sum(taken.values())
    for i, s in enumerate(strata_by_rank):  # pass 2: open seats
        if seats >= k:
            break
        if chosen[i]:
            continue
        cap = quotas.get(s, (0, None))[1]
        if cap is None or taken.get(s, 0) < cap:
            chosen[i] = True
            taken[s] = taken.get(s, 0) + 1
            seats += 1
    return chosen


def next_promotion(
    ranked: list[tuple[str, str]], winners: set, gone: set, vacated: str, quotas: dict
):
    """The entrant who fills a winner's vacancy, or None (spec, withdrawals)."""
    count: dict[str, int] = {}
    for ref, stratum in ranked:
        if ref in winners:
            count[stratum] = count.get(stratum, 0) + 1

    def under_cap(stratum: str) -> bool:
        cap = quotas.get(stratum, (0, None))[1]
        return cap is None or count.get(stratum, 0) < cap

    waiting = [(r, s) for r, s in ranked if r not in winners and r not in gone]
    if count.get(vacated, 0) < quotas.get(vacated, (0, None))[0]:
        for r, s in waiting:
            if s == vacated:
                return r
    for r, s in waiting:
        if under_cap(s):
            return r
    return None


# --- checking a record ------------------------------------------------------------------


def check_inputs(rec: dict, report: Report):
    """Validate the published inputs; returns (quotas, refs, strata) or None if unusable."""
    if rec.get("spec") != SPEC:
        report.problem("spec", f"spec is {rec.get('spec')!r}, expected {SPEC!r}")
    if not isinstance(rec.get("draw_id"), str) or not DRAW_ID.match(rec["draw_id"]):
        report.problem("draw_id", f"draw_id {rec.get('draw_id')!r} is not 1-64 of [a-z0-9-]")
    k = rec.get("winners")
    if not is_int(k) or k < 0:
        report.problem("winners", f"winners {k!r} is not an integer >= 0")
        k = None
    if "entries_close_at" in rec and parse_time(rec["entries_close_at"]) is None:
        report.problem("time", f"entries_close_at {rec['entries_close_at']!r} is not UTC ISO 8601")

    quotas: dict[str, tuple[int, int | None]] = {}
    raw_quotas = rec.get("quotas")
    if not isinstance(raw_quotas, dict):
        report.problem("quotas", "quotas is not an object")
        raw_quotas = {}
    for stratum, q in raw_quotas.items():
        if not STRATUM.match(stratum):
            report.problem("quotas", f"quotas has an invalid stratum name {stratum!r}")
        if not isinstance(q, dict):
            report.problem("quotas", f"quotas.{stratum} is not an object")
            continue
        reserved, cap = q.get("reserved", 0), q.get("cap")
        if not is_int(reserved) or reserved < 0:
            report.problem("quotas", f"quotas.{stratum}.reserved {reserved!r} is not >= 0")
            reserved = 0
        if cap is not None and (not is_int(cap) or cap < reserved):
            report.problem("quotas", f"quotas.{stratum}.cap {cap!r} is not null or >= reserved")
            cap = None
        quotas[stratum] = (reserved, cap)
    if k is not None and sum(r for r, _ in quotas.values()) > k:
        report.problem("quotas", "reserved seats add up to more than winners")

    entrants = rec.get("entrants")
    if not isinstance(entrants, list):
        report.problem("entrants", "entrants is not a list")
        return None
    refs: list = []
    strata: list = []
    add_ref, add_stratum = refs.append, strata.append
    try:
        # Both columns in one pass over the rows: a pass per column (map with itemgetter)
        # costs more, as each pass brings every row back from memory. A row that is not an
        # object with these keys raises TypeError or KeyError.
        for e in entrants:
            add_ref(e["ref"])
            add_stratum(e["stratum"])
    except (TypeError, KeyError):
        for i, e in enumerate(entrants):
            if not isinstance(e, dict) or "ref" not in e or "stratum" not in e:
                report.problem("entrants", f"entrants[{i}] is not an object with ref and stratum")
        return None
    usable = True
    if not refs_look_valid(refs):
        usable = False
        for i, r in enumerate(refs):
            if not isinstance(r, str) or not REF.match(r):
                report.problem("entrants", f"entrants[{i}].ref {r!r} is not 1-32 of [A-Z0-9-]")
    try:
        distinct_strata = set(strata)
    except TypeError:
        distinct_strata = {repr(s) for s in strata}
    for s in {s for s in distinct_strata if not (isinstance(s, str) and STRATUM.match(s))}:
        usable = False
        report.problem("entrants", f"entrants has an invalid stratum {s!r}")
    if not usable:
        return None
    if not all(map(lt, refs, islice(refs, 1, None))):  # islice: no copy of the list
        for i in range(1, len(refs)):
            if not refs[i - 1] < refs[i]:
                what = "is repeated" if refs[i - 1] == refs[i] else "is out of order"
                report.problem("entrants", f"entrants[{i}].ref {refs[i]} {what} (sorted by ref)")
        if len(set(refs)) != len(refs):
            return None
        pairs = sorted(zip(refs, strata, strict=False))
        refs, strata = [p[0] for p in pairs], [p[1] for p in pairs]
    return k, quotas, refs, strata


def check_beacon(rec: dict, report: Report, drawn: bool):
    """Returns the beacon line, or None when it has no value yet or is malformed."""
    b = rec.get("beacon")
    if not isinstance(b, dict):
        report.problem("beacon", "beacon is not an object")
        return None
    if b.get("source") == "declared":
        if not isinstance(b.get("description"), str) or not b["description"].strip():
            report.problem("beacon", "declared beacon has no description of its public event")
        value = b.get("value")
        if value is None and not drawn:
            return None
        if not isinstance(value, str) or not value or "\n" in value or "\r" in value:
            report.problem("beacon", f"declared beacon value {value!r} is not a one-line string")
            return None
        report.note(f"beacon: declared value {value!r} from: {b.get('description')}")
        return "declared " + value
    if b.get("source") != "drand":
        report.problem("beacon", f"beacon source {b.get('source')!r} is neither drand nor declared")
        return None
    chain, rnd = b.get("chain_hash"), b.get("round")
    rand, sig = b.get("randomness"), b.get("signature")
    ok = True
    if not isinstance(chain, str) or not HEX64.match(chain):
        report.problem("beacon", f"beacon chain_hash {chain!r} is not 64 lowercase hex digits")
        ok = False
    if not is_int(rnd) or rnd < 1:
        report.problem("beacon", f"beacon round {rnd!r} is not a positive integer")
        ok = False
    close = parse_time(rec.get("entries_close_at"))
    if ok and chain in KNOWN_CHAINS and close is not None:
        genesis, period = KNOWN_CHAINS[chain]
        at = genesis + (rnd - 1) * period
        if at <= close.timestamp():
            report.problem(
                "beacon",
                f"drand round {rnd} was published at "
                f"{datetime.fromtimestamp(at, UTC):%Y-%m-%dT%H:%M:%SZ}, not after entries "
                f"closed ({rec['entries_close_at']}): its value could have been known",
            )
    if rand is None and sig is None and not drawn:
        return None
    if not isinstance(sig, str) or not HEX.match(sig):
        report.problem("beacon", f"beacon signature {sig!r} is not lowercase hex")
        return None
    if not isinstance(rand, str) or not HEX64.match(rand):
        report.problem("beacon", f"beacon randomness {rand!r} is not 64 lowercase hex digits")
        return None
    if hashlib.sha256(bytes.fromhex(sig)).hexdigest() != rand:
        report.problem("beacon", "beacon randomness is not SHA-256 of its signature")
    if not ok:
        return None
    if chain != QUICKNET:
        report.note(
            f"beacon: BLS signature NOT checked: chain {chain[:16]}... is not drand quicknet, "
            "whose public key this verifier knows"
        )
    else:
        try:
            import drand_verify
        except ImportError:
            report.note(
                "beacon: BLS signature NOT checked: the drand-verify package is not installed "
                "(pip install drand-verify); only randomness = SHA-256(signature) was checked"
            )
        else:
            try:
                proven = drand_verify.verify_quicknet(rnd, sig)
            except Exception as error:  # the library raises ValueError on a bad signature
                report.problem("beacon", f"beacon BLS signature does not verify: {error}")
            else:
                if proven != rand:
                    report.problem("beacon", "beacon randomness differs from the verified one")
                else:
                    report.note(f"beacon: drand quicknet round {rnd}, BLS signature verified")
    return f"drand {chain} {rnd} {rand}"


def check_results(rec, report, k, quotas, refs, strata, seed):
    """Tickets, ranks, outcomes; returns (refs, strata, winner flags) in rank order or None.

    Works column by column so that a million rows are compared in C (list equality) and
    only a mismatch triggers the slower row-by-row reporting."""
    results = rec.get("results")
    if not isinstance(results, list):
        report.problem("results", "results is not a list")
        return None
    n = len(refs)
    r_refs, r_strata, r_tickets, r_ranks, r_outcomes, r_positions = ([] for _ in range(6))
    add_ref, add_stratum, add_ticket = r_refs.append, r_strata.append, r_tickets.append
    add_rank, add_outcome, add_position = r_ranks.append, r_outcomes.append, r_positions.append
    try:
        # All six columns in one pass over the rows: six passes (map with itemgetter) take
        # more than twice as long on a million rows, each bringing every row back from
        # memory. A row that is not an object with these keys raises TypeError or KeyError.
        for row in results:
            add_ref(row["ref"])
            add_stratum(row["stratum"])
            add_ticket(row["ticket"])
            add_rank(row["rank"])
            add_outcome(row["outcome"])
            add_position(row["waitlist_position"])
    except (TypeError, KeyError):
        keys = ("ref", "stratum", "ticket", "rank", "outcome", "waitlist_position")
        for i, r in enumerate(results):
            if not isinstance(r, dict) or any(key not in r for key in keys):
                report.problem("results", f"results[{i}] lacks one of {', '.join(keys)}")
        return None
    if len(results) != n:
        report.problem("results", f"results has {len(results)} rows for {n} entrants")

    @functools.cache
    def stratum_of() -> dict[str, str]:  # needed only when a check fails or the order is off
        return dict(zip(refs, strata, strict=True))

    def membership_problems() -> None:
        listed = {r for r in r_refs if isinstance(r, str)}
        for r in sorted(set(refs) - listed):
            report.problem("membership", f"entrant {r} has no result")
        for r in sorted(listed - set(refs)):
            report.problem("membership", f"result {r} is not an entrant")
        for r in r_refs:
            if not isinstance(r, str):
                report.problem("membership", f"result reference {r!r} is not a string")
        if len(listed) != len([r for r in r_refs if isinstance(r, str)]):
            report.problem("membership", "a reference appears twice in results")

    try:
        same = same_entrants(refs, strata, r_refs, r_strata)
    except TypeError:  # a listed reference that cannot be in a set (a list, an object)
        same = False
    if same:
        # As many rows as entrants, each an entrant with its stratum: the checks below would
        # find nothing. Every listed reference equals an entrant's, a str (check_inputs), so
        # it is a str too. Each scan skipped here is a pass over a million rows.
        want_strata = r_strata
    else:  # find out what differs, row by row
        if not set(map(type, r_refs)) <= {str}:
            membership_problems()
            return None
        want_strata = list(map(stratum_of().get, r_refs))
        if None in want_strata or len(r_refs) != n:
            membership_problems()
            return None
        if r_strata != want_strata:
            for r, s in zip(r_refs, r_strata, strict=True):
                if s != stratum_of()[r]:
                    report.problem(
                        "stratum", f"{r}: result stratum {s!r}, entrant has {stratum_of()[r]!r}"
                    )

    tickets = tickets_of(seed, r_refs)
    if tickets != r_tickets:
        for r, want, got in zip(r_refs, tickets, r_tickets, strict=True):
            if want != got:
                report.problem("ticket", f"{r}: ticket is {got!r}, recomputed {want}")

    # The spec's order is by (ticket, ref); checking that the published order is that order
    # is linear, so no sort is needed unless the record is out of order.
    in_order = all(map(lt, tickets, islice(tickets, 1, None))) or all(
        a < b or (a == b and ra < rb)
        for a, b, ra, rb in zip(tickets, tickets[1:], r_refs, r_refs[1:], strict=False)
    )
    # Every row names an entrant and there are as many rows as entrants; the rows are
    # distinct when the (ticket, ref) order is strict (equal refs have equal tickets), so
    # only an out-of-order record needs the set-based duplicate check.
    if not in_order and len(set(r_refs)) != n:
        membership_problems()
        return None
    if in_order:
        order_refs = r_refs
        position = None
    else:
        order_refs = [r for _, r in sorted(zip(tickets, r_refs, strict=True))]
        position = {r: i for i, r in enumerate(order_refs)}
        for i, r in enumerate(r_refs):
            if position[r] != i:
                report.problem(
                    "order", f"{r}: listed at position {i + 1}, belongs at {position[r] + 1}"
                )
    order_strata = want_strata if in_order else [stratum_of()[r] for r in order_refs]
    if r_ranks != list(range(1, n + 1)) or not set(map(type, r_ranks)) <= {int}:
        for i, (r, got) in enumerate(zip(r_refs, r_ranks, strict=True)):
            want = (i if position is None else position[r]) + 1
            if got != want or type(got) is not int:
                report.problem("rank", f"{r}: rank is {got!r}, recomputed {want}")

    if k is None:
        return None
    chosen = outcomes_of(order_strata, k, quotas)
    want_outcomes = ["winner" if c else "waitlist" for c in chosen]
    want_positions: list[int | None] = []
    waiting = 0
    for c in chosen:
        if c:
            want_positions.append(None)
        else:
            waiting += 1
            want_positions.append(waiting)
    if position is not None:  # compare against the rows as they were listed
        want_outcomes = [want_outcomes[position[r]] for r in r_refs]
        want_positions = [want_positions[position[r]] for r in r_refs]
    types_ok = set(map(type, r_positions)) <= {int, type(None)}
    if r_outcomes != want_outcomes or r_positions != want_positions or not types_ok:
        for r, got, want in zip(r_refs, r_outcomes, want_outcomes, strict=True):
            if got != want:
                report.problem("outcome", f"{r}: outcome is {got!r}, recomputed {want}")
        for r, got, want in zip(r_refs, r_positions, want_positions, strict=True):
            if got != want or (got is not None and type(got) is not int):
                report.problem(
                    "waitlist_position", f"{r}: waitlist_position is {got!r}, recomputed {want}"
                )
    report.note(f"results: {n} entrants, {sum(chosen)} winners")
    return order_refs, order_strata, chosen


def check_events(rec, report, quotas, ranked) -> None:
    """Replays withdrawals in order and checks each promotion the spec implies."""
    withdrawals = rec.get("withdrawals", [])
    promotions = rec.get("promotions", [])
    if not isinstance(withdrawals, list) or not isinstance(promotions, list):
        report.problem("events", "withdrawals and promotions must be lists")
        return
    if not withdrawals and not promotions:
        return
    order_refs, order_strata, chosen = ranked
    plain = list(zip(order_refs, order_strata, strict=True))
    known = set(order_refs)
    winners = {r for r, won in zip(order_refs, chosen, strict=True) if won}
    gone: set[str] = set()
    unmatched = list(range(len(promotions)))
    last = None
    for i, w in enumerate(withdrawals):
        if not isinstance(w, dict):
            report.problem("events", f"withdrawals[{i}] is not an object")
            continue
        ref, reason, at = w.get("ref"), w.get("reason"), parse_time(w.get("at"))
        if reason not in REASONS:
            report.problem(
                "events", f"withdrawals[{i}] reason {reason!r} is not one of {sorted(REASONS)}"
            )
        if at is None:
            report.problem("events", f"withdrawals[{i}] time {w.get('at')!r} is not UTC ISO 8601")
        elif last is not None and at < last:
            report.problem("events", f"withdrawals[{i}] is earlier than the one before it")
        last = at or last
        if ref not in known:
            report.problem("events", f"withdrawals[{i}] {ref!r} is not an entrant")
            continue
        if ref in gone:
            report.problem("events", f"withdrawals[{i}] {ref} had already withdrawn")
            continue
        gone.add(ref)
        matches = [
            j
            for j in unmatched
            if isinstance(promotions[j], dict) and promotions[j].get("replaces") == ref
        ]
        if ref not in winners:
            for j in matches:
                report.problem("events", f"promotions[{j}] replaces {ref}, who was not a winner")
                unmatched.remove(j)
            continue
        winners.discard(ref)
        vacated = dict(plain)[ref]
        expected = next_promotion(plain, winners, gone, vacated, quotas)
        if not matches:
            if expected is not None:
                report.problem(
                    "events",
                    f"withdrawal of {ref}: {expected} should have been promoted, "
                    "no promotion recorded",
                )
                winners.add(expected)
            continue
        j = matches[0]
        unmatched.remove(j)
        p = promotions[j]
        if p.get("ref") != expected:
            report.problem(
                "events",
                f"promotions[{j}] promotes {p.get('ref')!r} for {ref}; the spec gives {expected}",
            )
        p_at = parse_time(p.get("at"))
        if p_at is None:
            report.problem("events", f"promotions[{j}] time {p.get('at')!r} is not UTC ISO 8601")
        elif at is not None and p_at < at:
            report.problem("events", f"promotions[{j}] is dated before the withdrawal it fills")
        if expected is not None:
            winners.add(expected)
    for j in unmatched:
        report.problem("events", f"promotions[{j}] does not follow any withdrawal of a winner")
    report.note(f"events: {len(withdrawals)} withdrawals, {len(promotions)} promotions")


def verify(rec: object, report: Report) -> None:
    if not isinstance(rec, dict):
        report.problem("record", "the record is not a JSON object")
        return
    if rec.get("entrants") is None and rec.get("entrants_digest") is None:
        check_beacon(rec, report, False)
        for key in ("seed", "results"):
            if rec.get(key) is not None:
                report.problem("record", f"{key} is set although entries have not closed")
        report.note("entries have not closed yet: there is no entrant list to check")
        return
    inputs = check_inputs(rec, report)
    drawn = rec.get("seed") is not None or rec.get("results") is not None
    line = check_beacon(rec, report, drawn)
    if inputs is None:
        return
    k, quotas, refs, strata = inputs
    digest = digest_of(refs, strata)
    if rec.get("entrants_digest") != digest:
        report.problem(
            "digest", f"entrants_digest is {rec.get('entrants_digest')!r}, recomputed {digest}"
        )
    else:
        report.note(f"entrants: {len(refs)}, digest {digest}")
    if not drawn:
        for key in ("withdrawals", "promotions"):
            if rec.get(key):
                report.problem("events", f"{key} listed although the draw has not run")
        report.note("the draw has not run yet: no seed or results to check")
        return
    if line is None or not isinstance(rec.get("draw_id"), str):
        return
    seed = seed_of(rec["draw_id"], digest, line)
    if rec.get("seed") != seed:
        report.problem("seed", f"seed is {rec.get('seed')!r}, recomputed {seed}")
    ranked = check_results(rec, report, k, quotas, refs, strata, seed)
    if ranked is not None and k is not None:
        check_events(rec, report, quotas, ranked)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a Suanli draw record (suanli-draw/1).")
    parser.add_argument("record", help="path, http(s) URL, or - for standard input")
    parser.add_argument(
        "--max-report",
        type=int,
        default=100,
        help="show at most this many mismatches of each kind (0 = all; default 100)",
    )
    args = parser.parse_args(argv)
    report = Report(args.max_report)
    try:
        raw = load(args.record)
    except Exception as error:  # a missing file, a refused URL: say so, no traceback
        print(f"CANNOT READ {args.record}: {error}")
        return 2
    try:
        rec = json.loads(raw)
    except (ValueError, RecursionError) as error:
        print(f"MISMATCH: the record is not valid JSON: {error}")
        return 1
    try:
        verify(rec, report)
    except Exception as error:  # tampering we did not foresee must still be a clean report
        report.problem("record", f"the record is malformed ({type(error).__name__}: {error})")
    for line in report.notes:
        print(line)
    if report.total:
        for line in report.problems:
            print("MISMATCH:", line)
        hidden = report.total - len(report.problems)
        if hidden:
            print(f"... and {hidden} more mismatches (use --max-report 0 to list all)")
        print(f"FAILED: {report.total} mismatch(es)")
        return 1
    print("OK: the record matches suanli-draw/1")
    return 0


if __name__ == "__main__":
    sys.exit(main())
