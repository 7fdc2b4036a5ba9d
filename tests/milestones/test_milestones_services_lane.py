"""Service lane (real PostgreSQL, Redis, Celery worker): a milestone's tranche is released once
even when checks of the same evidence run at the same time. Fails, never skips, without them."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from centers.models import CapacityEntry
from grants.models import OutboxEvent
from milestones import checkers, services
from milestones.models import EvidenceCheck, Milestone
from milestones.tasks import milestone_check
from tests.conftest import wait_until

from .factories import accepted_grant

pytestmark = pytest.mark.services

REPO = "/repos/shanshui-ai/lingxi-infer"
REPO_URL = "https://github.com/shanshui-ai/lingxi-infer"


@pytest.mark.django_db(transaction=True)
def test_simultaneous_applies_on_postgresql_release_one_tranche(settings):
    """Six workers hold a passing result for the same evidence and apply it at one instant,
    each in its own connection: the row lock lets one release; five record a stale check."""
    if connection.vendor != "postgresql":
        pytest.fail("DATABASE_URL must point at PostgreSQL for this test")
    settings.MILESTONES_REQUIRE_HTTPS = True
    grant = accepted_grant(kinds=("open_code",))
    milestone = grant.milestones.get(kind="open_code")
    services.milestone_evidence_submit(milestone=milestone, url=REPO_URL)
    milestone.refresh_from_db()
    passing = checkers.CheckResult(checkers.Verdict.PASS, "ok", "通过", {"fields": {}})
    start = threading.Barrier(6)
    outcomes: list[str] = []
    lock = threading.Lock()

    def apply():
        try:
            start.wait()
            outcome = services.milestone_check_apply(
                milestone_id=milestone.pk,
                revision=milestone.evidence_revision,
                checker_kind="open_code",
                result=passing,
                started_at=timezone.now(),
            )
            result = f"{outcome.check.outcome}:{outcome.released}"
        except Exception as exc:  # shown in the assertion below
            result = f"error: {exc!r}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=apply) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["stale:False"] * 5 + ["verified:True"], outcomes
    assert CapacityEntry.objects.filter(tranche=milestone.tranche, kind="release").count() == 1


@pytest.fixture
def worker_sees_local_apis(monkeypatch, server):
    """Environment for the worker subprocess: the checkers read the local recorded server."""
    monkeypatch.setenv("SUANLI_MILESTONES_GITHUB_API", server.url)
    monkeypatch.setenv("SUANLI_MILESTONES_FETCH_ALLOW_PRIVATE", "true")
    monkeypatch.setenv("SUANLI_MILESTONES_REQUIRE_HTTPS", "false")
    return server


@pytest.mark.django_db(transaction=True)
def test_check_task_sent_twice_to_a_real_worker_releases_once(
    worker_sees_local_apis, celery_worker_process, settings
):
    """The on-commit nudge and a duplicate delivery both reach a real worker (concurrency 2);
    the GitHub answer is slow enough that both checks run at once; one tranche is released."""
    server = worker_sees_local_apis
    server.add(REPO, recorded="github/repo_ok.json", delay=1.0)
    server.add(f"{REPO}/commits", recorded="github/commits_since.json")
    settings.MILESTONES_REQUIRE_HTTPS = False
    settings.MILESTONES_FETCH_ALLOW_PRIVATE = True
    grant = accepted_grant(kinds=("open_code",))
    milestone = grant.milestones.get(kind="open_code")

    services.milestone_evidence_submit(milestone=milestone, url=REPO_URL)  # nudge on commit
    milestone_check.delay(milestone.pk)  # the duplicate

    wait_until(lambda: Milestone.objects.get(pk=milestone.pk).state == "verified", timeout=60)
    time.sleep(3)  # let the second task finish too
    assert CapacityEntry.objects.filter(tranche=milestone.tranche, kind="release").count() == 1
    assert (
        OutboxEvent.objects.filter(grant=grant, event_type="grant.tranche_released").count() == 2
    )  # acceptance + this milestone
    checks = list(EvidenceCheck.objects.filter(milestone=milestone))
    assert [c.outcome for c in checks if c.applied] == ["verified"]
    assert len([r for r in server.requests if r.path == REPO]) >= 1
