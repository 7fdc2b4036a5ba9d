"""letter_schedule / letter_render: one stored, verifiable PDF per grant version, rendered once."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest

from core.models import AuditEvent
from letters import services
from letters.content import content_fingerprint, verification_code_normalize
from letters.documents import verification_url
from letters.models import GrantLetter
from letters.tasks import letter_render_task
from tests.letters.factories import LEGAL_NAME, completed_draw, make_grant
from tests.letters.pdftools import (
    pdf_pages_as_png,
    pdffonts,
    pdftotext,
    pypdf_text,
    squeeze,
    zbarimg,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(root) -> list:
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def schedule_and_run(grant, django_capture_on_commit_callbacks) -> GrantLetter:
    with django_capture_on_commit_callbacks(execute=True):
        letter = services.letter_schedule(grant=grant)
    letter.refresh_from_db()
    return letter


def test_schedule_renders_after_commit_and_stores_the_pdf(
    django_capture_on_commit_callbacks, media_root
):
    grant = make_grant()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        letter = services.letter_schedule(grant=grant)
    # Nothing is rendered inside the transaction that accepted the grant.
    assert letter.state == GrantLetter.State.PENDING
    assert stored_files(media_root) == []
    assert len(callbacks) == 1

    callbacks[0]()
    letter.refresh_from_db()
    assert letter.state == GrantLetter.State.CURRENT
    assert letter.version == 1
    assert verification_code_normalize(letter.verification_code) == letter.verification_code
    files = stored_files(media_root)
    assert len(files) == 1
    data = files[0].read_bytes()
    assert hashlib.sha256(data).hexdigest() == letter.sha256
    assert letter.size == len(data)
    with letter.file.open("rb") as stored:
        assert stored.read() == data


def test_render_runs_once_per_version_and_rerunning_changes_nothing(
    django_capture_on_commit_callbacks, media_root
):
    grant = make_grant()
    letter = schedule_and_run(grant, django_capture_on_commit_callbacks)
    before = (letter.sha256, letter.file.name, letter.rendered_at, letter.state)
    files_before = [(path, path.stat().st_mtime_ns) for path in stored_files(media_root)]

    # The task delivered again (a retry, a duplicate message) and the service called directly.
    letter_render_task.delay(grant.pk, 1)
    services.letter_render(grant_id=grant.pk, version=1)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = services.letter_schedule(grant=grant)
    assert callbacks == []  # already rendered: nothing enqueued

    letter.refresh_from_db()
    assert again.pk == letter.pk
    assert (letter.sha256, letter.file.name, letter.rendered_at, letter.state) == before
    assert [(path, path.stat().st_mtime_ns) for path in stored_files(media_root)] == files_before
    assert GrantLetter.objects.filter(grant=grant).count() == 1
    assert AuditEvent.objects.filter(action="letter.rendered").count() == 1


def test_letter_pdf_has_the_grant_in_extractable_chinese_and_a_working_qr(
    django_capture_on_commit_callbacks,
):
    grant = make_grant()
    letter = schedule_and_run(grant, django_capture_on_commit_callbacks)
    with letter.file.open("rb") as stored:
        pdf = stored.read()
    for extract in (pdftotext, pypdf_text):
        text = squeeze(extract(pdf))
        assert LEGAL_NAME in text
        assert "91310110666007217T" in text
        assert "12,000" in text
        assert "4,000" in text
        assert f"G-{grant.pk}" in text
        assert letter.verification_code in text
        assert "公开发布模型权重" in text  # milestone behind tranche 2
        assert "2027年4月30日" in text  # its target date
        assert "武汉人工智能计算中心" in text
    fonts = pdffonts(pdf)
    assert fonts and all(font["emb"] == "yes" and font["sub"] == "yes" for font in fonts)
    found = [payload for page in pdf_pages_as_png(pdf) for payload in zbarimg(page)]
    assert found == [verification_url(letter.verification_code)]
    assert found[0].endswith(f"/letters/verify/?code={letter.verification_code}")


def test_facts_are_taken_when_scheduled_not_when_the_worker_runs(
    django_capture_on_commit_callbacks,
):
    grant = make_grant(amount="12000")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        letter = services.letter_schedule(grant=grant)
    grant.amount = Decimal("99999")
    grant.save()
    callbacks[0]()
    letter.refresh_from_db()
    assert letter.facts["amount"] == "12000"
    assert letter.content_sha256 == content_fingerprint(letter.facts)
    with letter.file.open("rb") as stored:
        text = squeeze(pdftotext(stored.read()))
    assert "12,000" in text
    assert "99,999" not in text


def test_a_new_version_supersedes_the_previous_letter(django_capture_on_commit_callbacks):
    grant = make_grant()
    first = schedule_and_run(grant, django_capture_on_commit_callbacks)
    grant.version = 2
    grant.save()
    second = schedule_and_run(grant, django_capture_on_commit_callbacks)
    first.refresh_from_db()
    assert second.version == 2
    assert second.state == GrantLetter.State.CURRENT
    assert first.state == GrantLetter.State.SUPERSEDED
    assert first.sha256 != second.sha256
    assert first.verification_code != second.verification_code
    # The old file is kept: it was issued and must stay checkable.
    with first.file.open("rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == first.sha256


def test_revocation_issues_a_revocation_letter_and_revokes_every_earlier_one(
    django_capture_on_commit_callbacks,
):
    grant = make_grant()
    first = schedule_and_run(grant, django_capture_on_commit_callbacks)
    grant.version = 2
    grant.save()
    second = schedule_and_run(grant, django_capture_on_commit_callbacks)
    grant.version, grant.status = 3, "revoked"
    grant.save()
    third = schedule_and_run(grant, django_capture_on_commit_callbacks)
    first.refresh_from_db()
    second.refresh_from_db()
    assert third.kind == GrantLetter.Kind.REVOCATION
    assert third.state == GrantLetter.State.CURRENT
    assert first.state == second.state == GrantLetter.State.REVOKED
    with third.file.open("rb") as stored:
        assert "本资助已撤销" in squeeze(pdftotext(stored.read()))


def test_versions_rendered_out_of_order_leave_the_newest_current(
    django_capture_on_commit_callbacks,
):
    grant = make_grant()
    with django_capture_on_commit_callbacks(execute=False):
        services.letter_schedule(grant=grant)
    grant.version = 2
    grant.save()
    with django_capture_on_commit_callbacks(execute=False):
        services.letter_schedule(grant=grant)
    # The worker happens to pick version 2 first.
    services.letter_render(grant_id=grant.pk, version=2)
    services.letter_render(grant_id=grant.pk, version=1)
    states = dict(GrantLetter.objects.filter(grant=grant).values_list("version", "state"))
    assert states == {1: GrantLetter.State.SUPERSEDED, 2: GrantLetter.State.CURRENT}


def test_letters_go_to_the_storage_named_by_the_setting(
    settings, django_capture_on_commit_callbacks, media_root
):
    settings.STORAGES = {
        **settings.STORAGES,
        "letters": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    settings.LETTERS_STORAGE = "letters"
    grant = make_grant()
    letter = schedule_and_run(grant, django_capture_on_commit_callbacks)
    assert stored_files(media_root) == []  # not on the default storage's disk
    with letter.file.open("rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == letter.sha256


def test_letter_names_the_draw_rank_and_draw_page(django_capture_on_commit_callbacks):
    draw = completed_draw()
    entry = draw.entries.filter(outcome="winner").order_by("rank").last()
    grant = make_grant(application=entry.application, draw_entry=entry)
    letter = schedule_and_run(grant, django_capture_on_commit_callbacks)
    assert letter.facts["draw"]["draw_id"] == draw.draw_id
    assert letter.facts["draw"]["rank"] == entry.rank
    with letter.file.open("rb") as stored:
        text = squeeze(pdftotext(stored.read()))
    assert draw.draw_id in text
    assert f"排名第{entry.rank}位" in text
    assert f"rank{entry.rank}" in text
    assert f"/draws/{draw.draw_id}/" in text
