"""With no environment at all, the portal runs on SQLite and a real Celery worker consumes the
embedded file-system broker: what a newcomer's `scripts/run.sh` relies on."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

ENQUEUE_A_MESSAGE = """
import django
django.setup()
from django.db import transaction
from notifications.services import notification_send
from applications.models import Application
with transaction.atomic():
    n = notification_send(kind="status_link", to_email="founder@example.cn", language="en",
                          context={"application": Application(reference="SL-TEST-0001"),
                                   "status_url": "http://127.0.0.1:8000/en/status/x/"})
print(n.pk)
"""


def _embedded_env(var_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL"}
    }
    env.update({"DJANGO_SETTINGS_MODULE": "portal.settings.base", "SUANLI_VAR_DIR": str(var_dir)})
    return env


def _python(code: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.stdout.strip().splitlines()[-1]


def _state(var_dir: Path, notification_id: str) -> str:
    # Read the file directly: a Django process per poll would cost a second each.
    with sqlite3.connect(var_dir / "suanli.sqlite3", timeout=20) as db:
        row = db.execute(
            "SELECT state FROM notifications_notification WHERE id = ?", (int(notification_id),)
        ).fetchone()
    return row[0]


def test_a_real_worker_sends_a_message_queued_on_the_embedded_broker(tmp_path):
    """No DATABASE_URL, no broker URL: the message is queued in var/ and a worker sends it."""
    env = _embedded_env(tmp_path)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300
    )
    notification_id = _python(ENQUEUE_A_MESSAGE, env)
    assert _state(tmp_path, notification_id) == "pending"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--loglevel=INFO",
            "--concurrency=1",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        state = "pending"
        while time.monotonic() < deadline and state != "sent":
            time.sleep(0.2)
            state = _state(tmp_path, notification_id)
        assert state == "sent"
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        output = worker.communicate(timeout=30)[0].decode()
    assert "notification_deliver_task" in output
    assert "succeeded" in output
