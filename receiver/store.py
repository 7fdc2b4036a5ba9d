"""SQLite storage for the reference receiver.

Every webhook is handled in one ``BEGIN IMMEDIATE`` transaction: the id is
recorded together with its effect, so a crash between "applied" and "recorded"
cannot happen, and a duplicate id finds its row and changes nothing.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    webhook_id  TEXT PRIMARY KEY,
    event_type  TEXT NOT NULL,
    grant_id    TEXT,
    version     INTEGER,
    outcome     TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS grants (
    grant_id      TEXT PRIMARY KEY,
    center        TEXT NOT NULL DEFAULT '',
    version       INTEGER NOT NULL,
    status        TEXT NOT NULL DEFAULT '',
    unit          TEXT NOT NULL DEFAULT '',
    total_granted TEXT NOT NULL DEFAULT '0',
    released      TEXT NOT NULL DEFAULT '0',
    reference     TEXT NOT NULL DEFAULT '',
    company_name  TEXT NOT NULL DEFAULT '',
    last_event    TEXT NOT NULL DEFAULT '',
    updated_at    TEXT NOT NULL,
    state_json    TEXT NOT NULL DEFAULT '{}'
);
-- One row per time an event changed a balance; "applied twice" is a query on it.
CREATE TABLE IF NOT EXISTS applications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id TEXT NOT NULL,
    grant_id   TEXT NOT NULL,
    version    INTEGER NOT NULL,
    applied_at TEXT NOT NULL
);
"""

UPSERT_GRANT = """
INSERT INTO grants (grant_id, center, version, status, unit, total_granted, released,
                    reference, company_name, last_event, updated_at, state_json)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(grant_id) DO UPDATE SET
    center = excluded.center, version = excluded.version, status = excluded.status,
    unit = excluded.unit, total_granted = excluded.total_granted,
    released = excluded.released, reference = excluded.reference,
    company_name = excluded.company_name, last_event = excluded.last_event,
    updated_at = excluded.updated_at, state_json = excluded.state_json
"""
INSERT_APPLICATION = (
    "INSERT INTO applications (webhook_id, grant_id, version, applied_at) VALUES (?, ?, ?, ?)"
)
INSERT_MESSAGE = (
    "INSERT INTO messages (webhook_id, event_type, grant_id, version, outcome, received_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
SELECT_BALANCES = (
    "SELECT grant_id, center, version, status, unit, total_granted, released, reference,"
    " company_name, last_event, updated_at{extra} FROM grants"
)
SELECT_ALL_BALANCES = SELECT_BALANCES.format(extra="") + " ORDER BY center, grant_id"
SELECT_ONE_BALANCE = SELECT_BALANCES.format(extra=", state_json") + " WHERE grant_id = ?"


class PayloadError(ValueError):
    """The body verified but does not carry what the contract requires."""


@dataclass(frozen=True)
class Outcome:
    """What happened to one webhook: applied, duplicate, stale (old version) or ping."""

    kind: str
    grant_id: str | None = None
    version: int | None = None


def _now() -> str:
    return datetime.now(tz=UTC).isoformat()


def _decimal_text(value: Any, field: str) -> str:
    try:
        return str(Decimal(str(value)))
    except (InvalidOperation, ValueError) as exc:
        raise PayloadError(f"{field} is not a decimal string") from exc


class ReceiverStore:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        if self.path != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def handle(self, *, webhook_id: str, payload: Any) -> Outcome:
        """Apply one verified webhook exactly once."""
        if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
            raise PayloadError("body must be an object with a type")
        event_type = payload["type"]
        data = payload.get("data")
        if not isinstance(data, dict):
            raise PayloadError("data must be an object")
        grant_id: str | None = None
        version: int | None = None
        if event_type.startswith("grant."):
            if "grant_id" not in data or "version" not in data:
                raise PayloadError("grant events need grant_id and version")
            grant_id = str(data["grant_id"])
            try:
                version = int(data["version"])
            except (TypeError, ValueError) as exc:
                raise PayloadError("version must be an integer") from exc
            total = _decimal_text(data.get("total_granted", "0"), "total_granted")
            released = _decimal_text(data.get("released", "0"), "released")

        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                seen = conn.execute(
                    "SELECT 1 FROM messages WHERE webhook_id = ?", (webhook_id,)
                ).fetchone()
                if seen:
                    conn.execute("COMMIT")
                    return Outcome("duplicate", grant_id, version)
                if grant_id is None:
                    kind = "ping" if event_type == "endpoint.ping" else "ignored"
                else:
                    row = conn.execute(
                        "SELECT version FROM grants WHERE grant_id = ?", (grant_id,)
                    ).fetchone()
                    if row is not None and version is not None and version <= row["version"]:
                        kind = "stale"
                    else:
                        kind = "applied"
                        recipient = data.get("recipient")
                        if not isinstance(recipient, dict):
                            recipient = {}
                        conn.execute(
                            UPSERT_GRANT,
                            (
                                grant_id,
                                str(data.get("center", "")),
                                version,
                                str(data.get("status", "")),
                                str(data.get("unit", "")),
                                total,
                                released,
                                str(recipient.get("reference", ""))
                                if isinstance(recipient, dict)
                                else "",
                                str(recipient.get("company_name", ""))
                                if isinstance(recipient, dict)
                                else "",
                                event_type,
                                _now(),
                                json.dumps(data, ensure_ascii=False, sort_keys=True),
                            ),
                        )
                        conn.execute(
                            INSERT_APPLICATION,
                            (webhook_id, grant_id, version, _now()),
                        )
                conn.execute(
                    INSERT_MESSAGE,
                    (webhook_id, event_type, grant_id, version, kind, _now()),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return Outcome(kind, grant_id, version)

    # --- reads -----------------------------------------------------------------

    def balances(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute(SELECT_ALL_BALANCES).fetchall()
        return [dict(row) for row in rows]

    def balance(self, grant_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute(
                SELECT_ONE_BALANCE,
                (grant_id,),
            ).fetchone()
        if row is None:
            return None
        result = dict(row)
        result["state"] = json.loads(result.pop("state_json"))
        return result

    def messages(self, limit: int = 100) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT webhook_id, event_type, grant_id, version, outcome, received_at"
                " FROM messages ORDER BY rowid DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [dict(row) for row in rows]

    def stats(self) -> dict[str, int]:
        with self._lock:
            conn = self._conn
            messages = conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
            by_outcome = dict(
                conn.execute("SELECT outcome, COUNT(*) FROM messages GROUP BY outcome").fetchall()
            )
            applications = conn.execute("SELECT COUNT(*) FROM applications").fetchone()[0]
            applied_twice = conn.execute(
                "SELECT COUNT(*) FROM (SELECT webhook_id FROM applications"
                " GROUP BY webhook_id HAVING COUNT(*) > 1)"
            ).fetchone()[0]
            grants = conn.execute("SELECT COUNT(*) FROM grants").fetchone()[0]
        return {
            "messages": messages,
            "applied": by_outcome.get("applied", 0),
            "stale": by_outcome.get("stale", 0),
            "pings": by_outcome.get("ping", 0),
            "applications": applications,
            "applied_twice": applied_twice,
            "grants": grants,
        }
