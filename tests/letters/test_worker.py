"""A real Celery worker renders the letter once, even when the task is delivered twice."""

from __future__ import annotations

import hashlib
import os
import re

import pytest

from letters import services
from letters.models import GrantLetter
from letters.tasks import letter_render_task
from tests.conftest import ROOT, wait_until
from tests.letters.factories import make_grant

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shared_media(monkeypatch, settings, tmp_path):
    """One media folder for this process and the worker subprocess (it reads the environment)."""
    media = tmp_path / "media"
    monkeypatch.setenv("DJANGO_MEDIA_ROOT", str(media))
    settings.MEDIA_ROOT = media
    return media


def test_worker_renders_the_scheduled_letter_once(shared_media, celery_worker_process):
    grant = make_grant()
    letter = services.letter_schedule(grant=grant)  # autocommit: enqueued at once
    rendered = wait_until(
        lambda: GrantLetter.objects.filter(pk=letter.pk, rendered_at__isnull=False).first(),
        timeout=120,
    )
    assert rendered.state == GrantLetter.State.CURRENT
    files = list(shared_media.rglob("*.pdf"))
    assert len(files) == 1
    assert hashlib.sha256(files[0].read_bytes()).hexdigest() == rendered.sha256

    # The same task delivered again: the worker finds the version rendered and changes nothing.
    result_marker = rendered.rendered_at
    letter_render_task.delay(grant.pk, rendered.version)
    letter_render_task.delay(grant.pk, rendered.version)
    # Wait until the worker reports all three runs done (its log is the fixture's file).
    log = ROOT / "var" / f"test-worker-{os.getpid()}.log"
    wait_until(lambda: _render_runs_succeeded(log) >= 3, timeout=120)
    rendered.refresh_from_db()
    assert rendered.rendered_at == result_marker
    assert list(shared_media.rglob("*.pdf")) == files


def _render_runs_succeeded(log) -> int:
    return len(re.findall(r"letter_render_task\[[^\]]+\] succeeded", log.read_text()))
