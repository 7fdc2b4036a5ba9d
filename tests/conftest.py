"""Fixtures shared by every app's tests."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def _database_url_for_test_db() -> str:
    """The URL of the database pytest-django made, so a worker subprocess sees the same rows."""
    s = connection.settings_dict
    if connection.vendor == "postgresql":
        user = s.get("USER") or "postgres"
        password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
        return f"postgres://{user}{password}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    raise RuntimeError(f"no worker URL for {connection.vendor}")


@pytest.fixture(autouse=True)
def _no_page_frames_from_other_tests():
    """Pages kept once per process (core.page_frames) are keyed on what the database holds, and
    a test's flush deletes rows the deployed database never lets go (draw events, whose count
    and last id key the draw page): no frame outlives its test."""
    from core import page_frames

    page_frames.frames_forget()
    yield
    page_frames.frames_forget()


@pytest.fixture(autouse=True)
def _no_offer_from_other_tests():
    """The form's rounds and centers are kept per process for a moment (applications.selectors
    .offer_read), forgotten when one is saved, but a test's rollback saves nothing: rows of the
    test before would still be offered."""
    from applications.selectors import offer_forget

    offer_forget()
    yield
    offer_forget()


@pytest.fixture
def celery_worker_process(transactional_db):
    """A real Celery worker process consuming the real broker (Redis in CI's service lane),
    working on the test database. Tasks sent while this fixture is active go to that worker.

    Fails (never skips) when the broker is not a real service."""
    from portal.celery import app

    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis://"):
        pytest.fail("CELERY_BROKER_URL must point at Redis for tests that need a real worker")
    if connection.vendor != "postgresql":
        pytest.fail("DATABASE_URL must point at PostgreSQL for tests that need a real worker")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "DATABASE_URL": _database_url_for_test_db(),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "SUANLI_WORKER_UNDER_TEST": "1",
    }
    subprocess.run(
        [sys.executable, "-m", "celery", "-A", "portal", "purge", "-f"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    log_path = ROOT / "var" / f"test-worker-{os.getpid()}.log"
    log_path.parent.mkdir(exist_ok=True)
    log = open(log_path, "wb")  # noqa: SIM115 - closed below, after the worker stops
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--loglevel=INFO",
            "--concurrency=2",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    previous_eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        deadline = time.monotonic() + 60
        while b"ready." not in log_path.read_bytes():
            if worker.poll() is not None or time.monotonic() > deadline:
                pytest.fail("Celery worker did not start:\n" + log_path.read_text()[-3000:])
            time.sleep(0.2)
        yield worker
    finally:
        app.conf.task_always_eager = previous_eager
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
        log.close()


def wait_until(predicate, *, timeout: float = 30.0, interval: float = 0.2):
    """Poll until predicate() is truthy (for work done by another process); fail on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout} s")
