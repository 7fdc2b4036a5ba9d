"""Pure signing helpers: secrets, headers, verification and the retry schedule."""

from __future__ import annotations

import base64
import random
import time
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from grants import webhook_signing as ws


def test_generated_secret_is_whsec_of_32_random_bytes():
    secret = ws.generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert ws.generate_secret() != secret
    assert ws.is_valid_secret(secret)
    assert not ws.is_valid_secret("whsec_short")
    assert not ws.is_valid_secret("nope")


def test_signature_matches_the_standard_webhooks_library():
    """A center verifying with the official library accepts what we send."""
    secret = ws.generate_secret()
    body = ws.event_body(
        event_type="grant.created", occurred_at=datetime.now(tz=UTC), data={"grant_id": 1}
    )
    headers = ws.sign_headers(msg_id="msg_1", body=body, secrets=[secret])
    assert Webhook(secret).verify(body, headers)["data"] == {"grant_id": 1}


def test_signature_is_hmac_of_id_timestamp_body():
    """The spec's formula, computed by hand: v1,base64(HMAC-SHA256("{id}.{ts}.{body}"))."""
    import hashlib
    import hmac

    secret = ws.generate_secret()
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(
        hmac.new(key, b"msg_x.1700000000.{}", hashlib.sha256).digest()
    ).decode()
    header = ws.signature_header(msg_id="msg_x", timestamp=1700000000, body="{}", secrets=[secret])
    assert header == f"v1,{expected}"


def test_rotation_sends_two_space_separated_signatures():
    new, old = ws.generate_secret(), ws.generate_secret()
    header = ws.signature_header(msg_id="m", timestamp=1, body="{}", secrets=[new, old])
    parts = header.split(" ")
    assert len(parts) == 2 and all(part.startswith("v1,") for part in parts)


def test_verify_request_accepts_valid_and_rejects_bad():
    secret = ws.generate_secret()
    body = '{"report_id":"r1"}'
    headers = ws.sign_headers(msg_id="msg_1", body=body, secrets=[secret])
    assert ws.verify_request(body=body.encode(), headers=headers, secrets=[secret]) == {
        "report_id": "r1"
    }
    with pytest.raises(ws.WebhookVerificationError):
        ws.verify_request(body=body + " ", headers=headers, secrets=[secret])
    with pytest.raises(ws.WebhookVerificationError):
        ws.verify_request(body=body, headers=headers, secrets=[ws.generate_secret()])
    with pytest.raises(ws.WebhookVerificationError):
        ws.verify_request(body=body, headers=headers, secrets=[secret], now=time.time() + 600)


def test_event_body_is_deterministic_and_capped():
    moment = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    one = ws.event_body(event_type="grant.amended", occurred_at=moment, data={"b": 1, "a": "2"})
    two = ws.event_body(event_type="grant.amended", occurred_at=moment, data={"a": "2", "b": 1})
    assert one == two
    assert '"timestamp":"2026-12-01T08:00:00Z"' in one
    with pytest.raises(ws.PayloadTooLarge):
        ws.event_body(event_type="grant.amended", occurred_at=moment, data={"x": "y" * 21000})
    with pytest.raises(ValueError):
        ws.event_body(event_type="grant.changed", occurred_at=moment, data={})


def test_retry_schedule_follows_the_contract_with_ten_percent_jitter():
    """At once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; then no more attempts."""
    expected = [0, 5, 300, 1800, 7200, 18000, 36000, 36000]
    rng = random.Random(4)
    for attempt, base in enumerate(expected, start=1):
        for _ in range(50):
            delay = ws.retry_delay(attempt, rng=rng).total_seconds()
            assert base * 0.9 <= delay <= base * 1.1
    assert ws.retry_delay(9) is None
    assert ws.MAX_ATTEMPTS == 8
    delays = {ws.retry_delay(3, rng=rng).total_seconds() for _ in range(20)}
    assert len(delays) > 1, "jitter spreads retries"


def test_a_scaled_schedule_keeps_its_shape_and_number_of_attempts():
    """The drills' scale shrinks every delay alike; attempt 1 still goes at once, 9 never."""
    rng = random.Random(7)
    assert ws.retry_delay(1, scale=0.01) == timedelta(0)
    for attempt, base in enumerate([0, 5, 300, 1800, 7200, 18000, 36000, 36000], start=1):
        delay = ws.retry_delay(attempt, rng=rng, scale=0.01).total_seconds()
        assert base * 0.01 * 0.9 <= delay <= base * 0.01 * 1.1
    assert ws.retry_delay(9, scale=0.01) is None


def test_retry_after_parsing():
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert ws.parse_retry_after("120") == timedelta(seconds=120)
    assert ws.parse_retry_after("Tue, 01 Dec 2026 00:01:00 GMT", now=now) == timedelta(seconds=60)
    assert ws.parse_retry_after("soon") is None
    assert ws.parse_retry_after(None) is None
