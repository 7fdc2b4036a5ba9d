"""The published draw record (spec, "Draw record"), free of Django.

``record_dumps`` writes the JSON text itself because a million-row record through
``json.dumps`` of a million dicts costs several seconds; every value in the big lists is
validated ASCII from a fixed alphabet (references, strata, hex), so no escaping is needed
there, and everything else still goes through ``json.dumps``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from lottery.draw import SPEC, Beacon, DrawResult, Quota


def iso_utc(moment: datetime | None) -> str | None:
    """UTC ISO 8601 with Z, to the second (microseconds kept when present)."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    text = moment.replace(tzinfo=None).isoformat()
    return f"{text}Z"


def build_record(
    *,
    draw_id: str,
    winners: int,
    quotas: Mapping[str, Quota],
    entries_close_at: datetime | None,
    beacon: Beacon,
    entrants: tuple[Sequence[str], Sequence[str]] | None = None,
    entrants_digest: str | None = None,
    result: DrawResult | None = None,
    withdrawals: Iterable[Mapping[str, Any]] = (),
    promotions: Iterable[Mapping[str, Any]] = (),
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The record as a dict. ``entrants`` are (refs, strata) sorted by ref; the big lists
    are kept as columns under private keys so ``record_dumps`` can stream them."""
    record: dict[str, Any] = {
        "spec": SPEC,
        "draw_id": draw_id,
        "winners": winners,
        "quotas": {stratum: q.as_dict() for stratum, q in sorted(quotas.items())},
        "entries_close_at": iso_utc(entries_close_at),
        "entrants": None,
        "entrants_digest": entrants_digest,
        "beacon": beacon.as_dict(),
        "seed": result.seed if result is not None else None,
        "results": None,
        "withdrawals": [dict(item) for item in withdrawals],
        "promotions": [dict(item) for item in promotions],
    }
    if extra:
        record.update(extra)
    record["_entrants_columns"] = entrants
    record["_result"] = result
    return record


def _entrants_json(refs: Sequence[str], strata: Sequence[str]) -> str:
    return ",".join([f'{{"ref":"{r}","stratum":"{s}"}}' for r, s in zip(refs, strata, strict=True)])


def _results_json(result: DrawResult) -> str:
    return ",".join(
        [
            f'{{"ref":"{ref}","stratum":"{stratum}","ticket":"{ticket}","rank":{rank},'
            f'"outcome":"{outcome}","waitlist_position":'
            f"{'null' if position is None else position}}}"
            for ref, stratum, ticket, rank, outcome, position in result.rows()
        ]
    )


def record_dumps(record: Mapping[str, Any]) -> str:
    """Compact JSON text of a record made by ``build_record`` (keys in spec order)."""
    parts = []
    entrants = record.get("_entrants_columns")
    result = record.get("_result")
    for key, value in record.items():
        if key.startswith("_"):
            continue
        if key == "entrants" and entrants is not None:
            text = "[" + _entrants_json(*entrants) + "]"
        elif key == "results" and result is not None:
            text = "[" + _results_json(result) + "]"
        else:
            text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        parts.append(f"{json.dumps(key)}:{text}")
    return "{" + ",".join(parts) + "}"


def record_as_plain(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record as plain JSON-ready data (small draws, tests)."""
    return json.loads(record_dumps(record))
