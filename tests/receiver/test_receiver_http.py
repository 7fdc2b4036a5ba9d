"""The reference center receiver, exercised over real HTTP on loopback.

Requests are signed with the same helpers the delivery worker uses, so these
tests also prove that Suanli and the receiver agree on the Standard Webhooks format.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from grants.webhook_signing import event_body, generate_secret, new_message_id, sign_headers
from receiver import ReceiverServer, ReceiverStore


def grant_event(*, grant_id: int = 7, version: int = 1, released: str = "0", total: str = "1000"):
    return event_body(
        event_type="grant.created" if version == 1 else "grant.amended",
        occurred_at=datetime.now(tz=UTC),
        data={
            "grant_id": grant_id,
            "version": version,
            "center": "wuhan",
            "recipient": {"reference": "SL-7", "company_name": "Example AI", "uscc": "X"},
            "unit": "gpu_hours",
            "total_granted": total,
            "released": released,
            "tranches": [],
            "status": "offered",
        },
    )


@pytest.fixture
def secret() -> str:
    return generate_secret()


@pytest.fixture
def receiver(secret, tmp_path):
    server = ReceiverServer(secrets=[secret], db_path=str(tmp_path / "receiver.sqlite3"))
    server.start()
    yield server
    server.stop()


def post(receiver, body: str, headers: dict[str, str]) -> requests.Response:
    return requests.post(receiver.url, data=body.encode("utf-8"), headers=headers, timeout=5)


def balance(receiver, grant_id: int = 7):
    response = requests.get(f"{receiver.url}balances/{grant_id}", timeout=5)
    return response.json() if response.status_code == 200 else None


def test_valid_signed_event_is_applied_and_shown_as_balance(receiver, secret):
    """A correctly signed grant event creates the grant's balance on the receiver."""
    body = grant_event(released="400")
    response = post(
        receiver, body, sign_headers(msg_id=new_message_id(), body=body, secrets=[secret])
    )
    assert response.status_code == 200
    assert response.json()["outcome"] == "applied"
    shown = balance(receiver)
    assert shown["released"] == "400"
    assert shown["total_granted"] == "1000"
    page = requests.get(receiver.url, timeout=5).text
    assert "Example AI" in page and "400 / 1000 gpu_hours" in page


def test_tampered_body_is_rejected_and_changes_nothing(receiver, secret):
    """Changing one byte after signing makes the signature fail: 401 and no balance."""
    body = grant_event(released="0")
    headers = sign_headers(msg_id=new_message_id(), body=body, secrets=[secret])
    tampered = body.replace('"released":"0"', '"released":"999"')
    assert tampered != body
    response = post(receiver, tampered, headers)
    assert response.status_code == 401
    assert balance(receiver) is None


def test_wrong_secret_is_rejected(receiver):
    """A request signed with another endpoint's secret is refused."""
    body = grant_event()
    headers = sign_headers(msg_id=new_message_id(), body=body, secrets=[generate_secret()])
    assert post(receiver, body, headers).status_code == 401
    assert balance(receiver) is None


def test_stale_timestamp_is_rejected(receiver, secret):
    """A correctly signed request older than the 5-minute tolerance is a replay and refused."""
    body = grant_event()
    old = int(time.time()) - 10 * 60
    headers = sign_headers(msg_id=new_message_id(), body=body, secrets=[secret], timestamp=old)
    response = post(receiver, body, headers)
    assert response.status_code == 401
    assert "tolerance" in response.json()["error"]
    assert balance(receiver) is None


def test_missing_headers_are_rejected(receiver):
    body = grant_event()
    response = requests.post(receiver.url, data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 401


def test_replayed_webhook_id_answers_200_and_changes_nothing(receiver, secret):
    """The same webhook-id delivered again (a retry or resend) is acknowledged but not re-applied,
    even when its body would otherwise be newer."""
    msg_id = new_message_id()
    first = grant_event(version=1, released="0")
    assert post(receiver, first, sign_headers(msg_id=msg_id, body=first, secrets=[secret])).ok
    again = grant_event(version=2, released="400")
    response = post(receiver, again, sign_headers(msg_id=msg_id, body=again, secrets=[secret]))
    assert response.status_code == 200
    assert response.json()["outcome"] == "duplicate"
    assert balance(receiver)["released"] == "0"
    stats = requests.get(receiver.url + "stats", timeout=5).json()
    assert stats["applications"] == 1
    assert stats["applied_twice"] == 0


def test_out_of_order_version_does_not_regress_the_grant(receiver, secret):
    """Version 3 arriving before version 2 wins; the late version 2 is ignored."""
    v3 = grant_event(version=3, released="700")
    v2 = grant_event(version=2, released="400")
    assert post(receiver, v3, sign_headers(msg_id=new_message_id(), body=v3, secrets=[secret])).ok
    late = post(receiver, v2, sign_headers(msg_id=new_message_id(), body=v2, secrets=[secret]))
    assert late.status_code == 200
    assert late.json()["outcome"] == "stale"
    shown = balance(receiver)
    assert shown["version"] == 3
    assert shown["released"] == "700"


def test_two_signatures_during_rotation_are_accepted(receiver, secret):
    """During a rotation Suanli sends the new and the old signature; either matching suffices."""
    body = grant_event()
    headers = sign_headers(msg_id=new_message_id(), body=body, secrets=[generate_secret(), secret])
    assert " " in headers["webhook-signature"]
    assert post(receiver, body, headers).status_code == 200


def test_receiver_configured_with_two_secrets_accepts_either(tmp_path):
    old, new = generate_secret(), generate_secret()
    with ReceiverServer(secrets=[old, new]) as server:
        for secret in (old, new):
            body = grant_event(version=2 if secret == new else 1)
            headers = sign_headers(msg_id=new_message_id(), body=body, secrets=[secret])
            assert post(server, body, headers).status_code == 200


def test_failure_plan_answers_errors_then_recovers(receiver, secret):
    """Told to fail (503 twice, then 429), the receiver refuses without storing, then works."""
    control = receiver.url + "_control"
    assert requests.post(control, json={"mode": "fail", "count": 2, "status": 503}).ok
    body = grant_event()
    headers = sign_headers(msg_id=new_message_id(), body=body, secrets=[secret])
    assert post(receiver, body, headers).status_code == 503
    assert post(receiver, body, headers).status_code == 503
    requests.post(control, json={"mode": "throttle", "count": 1, "retry_after": 7})
    throttled = post(receiver, body, headers)
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "7"
    assert balance(receiver) is None
    assert post(receiver, body, headers).status_code == 200
    assert balance(receiver)["version"] == 1


def test_gone_and_timeout_modes(receiver, secret):
    control = receiver.url + "_control"
    requests.post(control, json={"mode": "gone", "count": -1})
    body = grant_event()
    headers = sign_headers(msg_id=new_message_id(), body=body, secrets=[secret])
    assert post(receiver, body, headers).status_code == 410
    assert post(receiver, body, headers).status_code == 410
    requests.post(control, json={"mode": "timeout", "count": 1, "seconds": 2})
    with pytest.raises(requests.Timeout):
        requests.post(receiver.url, data=body, headers=headers, timeout=0.5)
    requests.post(control + "/reset")
    assert post(receiver, body, headers).status_code == 200


def test_store_survives_restart(tmp_path, secret):
    """Ids and balances live in SQLite: a restarted receiver still refuses to re-apply an id."""
    path = tmp_path / "r.sqlite3"
    body = grant_event(released="400", version=2)
    msg_id = new_message_id()
    store = ReceiverStore(path)
    assert store.handle(webhook_id=msg_id, payload=json.loads(body)).kind == "applied"
    store.close()
    reopened = ReceiverStore(path)
    assert reopened.handle(webhook_id=msg_id, payload=json.loads(body)).kind == "duplicate"
    assert reopened.stats()["applications"] == 1
    reopened.close()


def test_command_line_process_serves_balances(tmp_path, secret):
    """``python -m receiver`` runs as its own process (what the demo and a center use)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "receiver",
            "--port",
            str(port),
            "--secret",
            secret,
            "--db",
            str(tmp_path / "cli.sqlite3"),
        ],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        for _ in range(50):
            try:
                requests.get(url + "stats", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        body = grant_event(released="400")
        headers = sign_headers(msg_id=new_message_id(), body=body, secrets=[secret])
        assert requests.post(url, data=body.encode(), headers=headers, timeout=5).status_code == 200
        assert requests.get(url + "balances/7", timeout=5).json()["released"] == "400"
    finally:
        process.terminate()
        process.wait(timeout=10)
