"""On PostgreSQL (CI's service lane): concurrent runs of the draw end with one stored result,
identical to the verifier's, and a real Celery worker runs the draw task."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from lottery import selectors, services
from lottery import verify_draw as verifier
from lottery.models import Draw, DrawEntry, DrawEvent, DrawRanking
from tests.conftest import wait_until
from tests.lottery.conftest import add_entrants, make_round, results_of

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _no_automatic_run(monkeypatch):
    """Setting the beacon value enqueues the draw on commit (eagerly in tests): these tests
    start the runs themselves."""
    monkeypatch.setattr(services, "_enqueue_execute", lambda draw_pk: None)


def _ready_draw(entrants=200, winners=20):
    if connection.vendor != "postgresql":
        pytest.fail("DATABASE_URL must point at PostgreSQL for this test")
    round_ = make_round(winners=winners, strata=[("first-time", 5, None)])
    add_entrants(round_, entrants, stratum_of=lambda i: "first-time" if i % 5 == 0 else "")
    draw = services.draw_announce(
        round=round_, beacon_source="declared", beacon_description="x", now=round_.opens_at
    )
    services.draw_freeze(draw=draw, now=round_.closes_at)
    services.draw_declared_value_enter(draw=draw, value="4 8 15", actor=None, now=round_.closes_at)
    ready = Draw.objects.get(pk=draw.pk)
    assert ready.state == Draw.State.FROZEN and ready.has_beacon_value
    return ready


def test_two_concurrent_draw_executions_store_exactly_one_result_identical_to_the_verifier():
    draw = _ready_draw()
    barrier = threading.Barrier(2)
    outcomes: list = []

    def run():
        try:
            barrier.wait()
            outcomes.append(services.draw_execute(draw=draw).state)
        except Exception as error:  # reported below
            outcomes.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert outcomes == ["completed", "completed"]
    assert len(results_of(draw)) == 200
    assert DrawEvent.objects.filter(draw=draw, kind="results_published").count() == 1
    report = verifier.Report(0)
    verifier.verify(selectors.draw_record(draw=Draw.objects.get(pk=draw.pk)), report)
    assert report.total == 0, report.problems


def test_a_real_worker_runs_the_draw_task(celery_worker_process):
    from lottery.tasks import draw_execute_task

    draw = _ready_draw(entrants=50, winners=5)
    draw_execute_task.delay(draw.pk)
    draw_execute_task.delay(draw.pk)  # a duplicate delivery changes nothing
    wait_until(lambda: Draw.objects.get(pk=draw.pk).state == Draw.State.COMPLETED, timeout=60)
    wait_until(
        lambda: DrawEvent.objects.filter(draw=draw, kind="results_published").exists(), timeout=30
    )
    assert len(results_of(draw)) == 50
    report = verifier.Report(0)
    verifier.verify(selectors.draw_record(draw=Draw.objects.get(pk=draw.pk)), report)
    assert report.total == 0


KILLED_WORKER = r"""
import os, sys, time
import django
django.setup()
from lottery import services
from lottery.models import Draw

def stall(*args, **kwargs):
    open(sys.argv[2], "w").write("inside")  # the COPY is done, the transaction still open
    time.sleep(120)

services._cross_check_against = stall
services.draw_execute(draw=Draw.objects.get(pk=int(sys.argv[1])))
"""


def test_a_worker_killed_half_way_leaves_nothing_and_the_next_run_completes(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    from tests.conftest import ROOT, _database_url_for_test_db

    draw = _ready_draw(entrants=300, winners=10)
    marker = tmp_path / "inside"
    script = tmp_path / "worker.py"
    script.write_text(KILLED_WORKER)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "DATABASE_URL": _database_url_for_test_db(),
        "PYTHONPATH": str(ROOT),
    }
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        worker = subprocess.Popen(
            [sys.executable, str(script), str(draw.pk), str(marker)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: marker.exists() or worker.poll() is not None, timeout=60)
        assert marker.exists(), (worker.returncode, log.read_text()[-3000:])
        # Not visible before the commit: no ranking block, no entry.
        assert not DrawRanking.objects.filter(draw=draw).exists()
        assert not DrawEntry.objects.filter(draw=draw).exists()
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(30)
    assert Draw.objects.get(pk=draw.pk).state == Draw.State.FROZEN
    assert not DrawRanking.objects.filter(draw=draw).exists()
    assert not DrawEntry.objects.filter(draw=draw).exists()
    completed = services.draw_execute(draw=draw)
    assert completed.state == Draw.State.COMPLETED
    assert len(results_of(draw)) == 300
    report = verifier.Report(0)
    verifier.verify(selectors.draw_record(draw=completed), report)
    assert report.total == 0
