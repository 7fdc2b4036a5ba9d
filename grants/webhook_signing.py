"""Pure webhook helpers for the center-billing contract (docs/webhooks.md).

No Django import here on purpose: the delivery worker, the usage-report API and
tests all use these, and a center can copy them. Signing itself is delegated to
the ``standardwebhooks`` package so Suanli and the centers agree byte for byte.
"""

from __future__ import annotations

import base64
import email.utils
import json
import random
import secrets as _secrets
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

SECRET_PREFIX = "whsec_"  # noqa: S105 - the public prefix, not a secret
SECRET_BYTES = 32

# The contract's schedule: delay before each attempt, attempt 1 goes at once.
RETRY_DELAYS_SECONDS: tuple[int, ...] = (
    0,
    5,
    5 * 60,
    30 * 60,
    2 * 3600,
    5 * 3600,
    10 * 3600,
    10 * 3600,
)
MAX_ATTEMPTS = len(RETRY_DELAYS_SECONDS)
JITTER_FRACTION = 0.10
REQUEST_TIMEOUT_SECONDS = 15
MAX_BODY_BYTES = 20 * 1024
DEFAULT_TOLERANCE_SECONDS = 5 * 60

EVENT_TYPES = (
    "grant.created",
    "grant.tranche_released",
    "grant.amended",
    "grant.revoked",
    "grant.expired",
    "endpoint.ping",
)

__all__ = [
    "DEFAULT_TOLERANCE_SECONDS",
    "EVENT_TYPES",
    "MAX_ATTEMPTS",
    "MAX_BODY_BYTES",
    "REQUEST_TIMEOUT_SECONDS",
    "RETRY_DELAYS_SECONDS",
    "PayloadTooLarge",
    "WebhookVerificationError",
    "event_body",
    "generate_secret",
    "is_valid_secret",
    "new_message_id",
    "parse_retry_after",
    "retry_delay",
    "sign_headers",
    "signature_header",
    "verify_request",
]


class PayloadTooLarge(ValueError):
    """The contract caps a webhook body at 20 kB."""


def generate_secret() -> str:
    """A fresh endpoint secret: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def is_valid_secret(value: str) -> bool:
    if not value.startswith(SECRET_PREFIX):
        return False
    try:
        raw = base64.b64decode(value[len(SECRET_PREFIX) :], validate=True)
    except ValueError:
        return False
    return len(raw) >= 24


def new_message_id() -> str:
    """A ``webhook-id``: stable across retries and resends of one event."""
    return "msg_" + uuid.uuid4().hex


def event_body(*, event_type: str, occurred_at: datetime, data: Mapping[str, Any]) -> str:
    """The exact JSON text that is signed and sent.

    Keys are sorted and separators compact so the same event always produces
    the same body (a resend is byte-identical; only timestamp and signature change).
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    document = {
        "type": event_type,
        "timestamp": occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    body = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if len(body.encode("utf-8")) > MAX_BODY_BYTES:
        raise PayloadTooLarge(
            f"webhook body is {len(body.encode('utf-8'))} bytes, limit {MAX_BODY_BYTES}"
        )
    return body


def _as_datetime(timestamp: datetime | int | float) -> datetime:
    if isinstance(timestamp, datetime):
        return timestamp.astimezone(UTC)
    return datetime.fromtimestamp(int(timestamp), tz=UTC)


def signature_header(
    *, msg_id: str, timestamp: datetime | int | float, body: str, secrets: Sequence[str]
) -> str:
    """``v1,<sig>`` for each valid secret, space-separated (two during a rotation)."""
    if not secrets:
        raise ValueError("at least one secret is needed to sign")
    moment = _as_datetime(timestamp)
    return " ".join(Webhook(secret).sign(msg_id, moment, body) for secret in secrets)


def sign_headers(
    *,
    msg_id: str,
    body: str,
    secrets: Sequence[str],
    timestamp: datetime | int | float | None = None,
) -> dict[str, str]:
    """The three Standard Webhooks headers plus the content type for one attempt."""
    moment = _as_datetime(time.time() if timestamp is None else timestamp)
    return {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signature_header(
            msg_id=msg_id, timestamp=moment, body=body, secrets=secrets
        ),
    }


def verify_request(
    *,
    body: bytes | str,
    headers: Mapping[str, str],
    secrets: Iterable[str],
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> Any:
    """Verify an inbound signed request and return its parsed JSON.

    Raises ``WebhookVerificationError`` for missing headers, a timestamp outside
    the tolerance, or no signature matching any of ``secrets``.
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    raw_timestamp = lowered.get("webhook-timestamp", "")
    try:
        sent_at = int(raw_timestamp)
    except ValueError as exc:
        raise WebhookVerificationError("Invalid webhook-timestamp") from exc
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance_seconds:
        raise WebhookVerificationError("Message timestamp outside tolerance")
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    msg_id = lowered.get("webhook-id")
    signature = lowered.get("webhook-signature")
    if not (msg_id and signature):
        raise WebhookVerificationError("Missing required headers")
    candidates = signature.split(" ")
    for secret in secrets:
        expected = Webhook(secret).sign(msg_id, _as_datetime(sent_at), text)
        for candidate in candidates:
            if _secrets.compare_digest(candidate.encode(), expected.encode()):
                return json.loads(text)
    raise WebhookVerificationError("No matching signature found")


def retry_delay(
    attempt_number: int, *, rng: random.Random | None = None, scale: float = 1.0
) -> timedelta | None:
    """Delay before attempt ``attempt_number`` (1-based), jittered by ±10 %.

    Returns ``None`` when the schedule is exhausted (the delivery has failed).
    Attempt 1 goes at once and is not jittered. ``scale`` shrinks the whole schedule, same
    shape and number of attempts, so a fault drill can outlast several retries in seconds.
    """
    if attempt_number < 1:
        raise ValueError("attempts are numbered from 1")
    if attempt_number > MAX_ATTEMPTS:
        return None
    base = RETRY_DELAYS_SECONDS[attempt_number - 1] * scale
    if base == 0:
        return timedelta(0)
    chooser = rng or random.SystemRandom()
    factor = 1 + chooser.uniform(-JITTER_FRACTION, JITTER_FRACTION)
    return timedelta(seconds=base * factor)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> timedelta | None:
    """Parse ``Retry-After`` (delta-seconds or HTTP-date); ``None`` if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    reference = now or datetime.now(tz=UTC)
    return max(when - reference, timedelta(0))
