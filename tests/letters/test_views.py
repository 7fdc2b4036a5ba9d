"""The public verification page and the founder's download, as a browser without JavaScript uses them."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader, PdfWriter

from applications.services import status_token_make
from letters import services
from letters.models import GrantLetter
from tests.letters.factories import LEGAL_NAME, make_grant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def issue(grant, django_capture_on_commit_callbacks) -> GrantLetter:
    with django_capture_on_commit_callbacks(execute=True):
        letter = services.letter_schedule(grant=grant)
    letter.refresh_from_db()
    return letter


def pdf_of(letter: GrantLetter) -> bytes:
    with letter.file.open("rb") as stored:
        return stored.read()


def verify_url(language: str = "zh-hans") -> str:
    with translation.override(language):
        return reverse("letters:verify")


def test_qr_link_without_language_redirects_to_the_page_keeping_the_code(client):
    response = client.get("/letters/verify/?code=K7QM-4XPR-9HTD")
    assert response.status_code == 302
    assert response["Location"].endswith("/letters/verify/?code=K7QM-4XPR-9HTD")
    assert response["Location"].startswith(("/zh-hans/", "/en/"))


def test_code_shows_the_grant_summary_current_version_and_its_sha256(
    client, django_capture_on_commit_callbacks
):
    grant = make_grant()
    letter = issue(grant, django_capture_on_commit_callbacks)
    response = client.get(verify_url(), {"code": letter.verification_code})
    assert response.status_code == 200
    page = response.content.decode()
    assert LEGAL_NAME in page
    assert "91310110666007217T" in page
    assert letter.sha256 in page
    assert "12,000" in page
    assert "2026年12月1日" in page
    assert 'data-state="current"' in page
    assert "这是该资助现行有效的通知书" in page
    assert "公开发布模型权重" in page  # the tranche schedule, milestone by milestone
    assert "2027年4月30日" in page

    english = client.get(verify_url("en"), {"code": letter.verification_code}).content.decode()
    assert "This is the current letter for this grant." in english
    assert "1 December 2026" in english
    assert "Open-source model weights published" in english
    assert letter.sha256 in english


def test_code_typed_loosely_still_finds_the_letter(client, django_capture_on_commit_callbacks):
    letter = issue(make_grant(), django_capture_on_commit_callbacks)
    typed = " " + letter.verification_code.replace("-", " ").lower() + " "
    response = client.get(verify_url("en"), {"code": typed})
    assert letter.sha256 in response.content.decode()


def test_superseded_letter_says_so_and_points_to_the_current_version(
    client, django_capture_on_commit_callbacks
):
    grant = make_grant()
    first = issue(grant, django_capture_on_commit_callbacks)
    grant.version = 2
    grant.save()
    second = issue(grant, django_capture_on_commit_callbacks)
    page = client.get(verify_url("en"), {"code": first.verification_code}).content.decode()
    assert 'data-state="superseded"' in page
    assert "superseded by version 2" in page
    assert second.sha256 in page  # the current version's hash
    assert first.sha256 in page  # and this letter's own


def test_revoked_grant_is_shown_as_revoked_for_every_letter(
    client, django_capture_on_commit_callbacks
):
    grant = make_grant()
    first = issue(grant, django_capture_on_commit_callbacks)
    grant.version, grant.status = 2, "revoked"
    grant.save()
    revocation = issue(grant, django_capture_on_commit_callbacks)
    for letter in (first, revocation):
        page = client.get(verify_url(), {"code": letter.verification_code}).content.decode()
        assert 'data-state="revoked"' in page
        assert "该资助已于" in page and "撤销" in page


def test_unknown_and_malformed_codes(client):
    page = client.get(verify_url("en"), {"code": "K7QM-4XPR-9HTD"}).content.decode()
    assert 'data-state="not-found"' in page
    bad = client.get(verify_url("en"), {"code": "not a code"})
    content = bad.content.decode()
    assert "<title>Error:" in content
    assert 'class="error-summary"' in content
    assert 'href="#id_code"' in content


def test_uploading_the_issued_pdf_verifies_it(
    client, django_capture_on_commit_callbacks, media_root
):
    letter = issue(make_grant(), django_capture_on_commit_callbacks)
    files_before = sorted(media_root.rglob("*"))
    upload = SimpleUploadedFile("letter.pdf", pdf_of(letter), content_type="application/pdf")
    response = client.post(verify_url("en"), {"pdf": upload})
    page = response.content.decode()
    assert response.status_code == 200
    assert "The file matches a letter we issued" in page
    assert f"version {letter.version} of the letter for grant G-{letter.grant_id}" in page
    assert letter.sha256 in page
    # The upload was hashed and dropped: nothing new was written.
    assert sorted(media_root.rglob("*")) == files_before
    assert GrantLetter.objects.count() == 1


@pytest.mark.parametrize("how", ["edited with pypdf", "one byte changed"])
def test_a_tampered_pdf_does_not_verify(client, django_capture_on_commit_callbacks, how):
    letter = issue(make_grant(), django_capture_on_commit_callbacks)
    original = pdf_of(letter)
    if how == "edited with pypdf":
        # What an editing tool does: read the letter, change something, save a valid PDF.
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(original)))
        writer.add_metadata({"/Title": "资助通知书 (amount 99,999)"})
        buffer = io.BytesIO()
        writer.write(buffer)
        tampered = buffer.getvalue()
    else:
        middle = len(original) // 2
        tampered = original[:middle] + bytes([original[middle] ^ 1]) + original[middle + 1 :]
    assert tampered != original
    upload = SimpleUploadedFile("letter.pdf", tampered, content_type="application/pdf")
    page = client.post(verify_url("en"), {"pdf": upload}).content.decode()
    assert 'data-state="no-match"' in page
    assert "does not match any letter we issued" in page
    assert letter.sha256 not in page


def test_upload_of_a_superseded_version_names_the_version(
    client, django_capture_on_commit_callbacks
):
    grant = make_grant()
    first = issue(grant, django_capture_on_commit_callbacks)
    grant.version = 2
    grant.save()
    issue(grant, django_capture_on_commit_callbacks)
    upload = SimpleUploadedFile("old.pdf", pdf_of(first), content_type="application/pdf")
    page = client.post(verify_url("en"), {"pdf": upload}).content.decode()
    assert "exactly version 1" in page
    assert "superseded by version 2" in page


def test_upload_needs_a_csrf_token(django_capture_on_commit_callbacks):
    letter = issue(make_grant(), django_capture_on_commit_callbacks)
    strict = Client(enforce_csrf_checks=True)
    upload = SimpleUploadedFile("letter.pdf", pdf_of(letter), content_type="application/pdf")
    assert strict.post(verify_url("en"), {"pdf": upload}).status_code == 403


def test_upload_over_the_limit_is_refused_with_a_message(client, settings):
    settings.LETTERS_VERIFY_UPLOAD_MAX_BYTES = 1000
    upload = SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * 5000, content_type="application/pdf")
    page = client.post(verify_url("en"), {"pdf": upload}).content.decode()
    assert 'href="#id_pdf"' in page
    assert "larger than" in page


def test_founder_downloads_their_letter_with_the_status_token(
    client, django_capture_on_commit_callbacks
):
    grant = make_grant()
    letter = issue(grant, django_capture_on_commit_callbacks)
    token = status_token_make(grant.application)
    with translation.override("zh-hans"):
        url = reverse("letters:founder_download", kwargs={"token": token, "letter_id": letter.pk})
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Referrer-Policy"] == "no-referrer"
    assert b"".join(response.streaming_content) == pdf_of(letter)

    # Another application's token, or a tampered token, opens nothing.
    other = make_grant(legal_name="别家公司")
    with translation.override("zh-hans"):
        wrong = reverse(
            "letters:founder_download",
            kwargs={"token": status_token_make(other.application), "letter_id": letter.pk},
        )
        tampered = reverse(
            "letters:founder_download", kwargs={"token": token + "x", "letter_id": letter.pk}
        )
    assert client.get(wrong).status_code == 404
    assert client.get(tampered).status_code == 404


def test_status_page_lists_letters_with_download_links(client, django_capture_on_commit_callbacks):
    grant = make_grant()
    letter = issue(grant, django_capture_on_commit_callbacks)
    token = status_token_make(grant.application)
    with translation.override("en"):
        status_url = reverse("applications:status", kwargs={"token": token})
        download = reverse(
            "letters:founder_download", kwargs={"token": token, "letter_id": letter.pk}
        )
    page = client.get(status_url).content.decode()
    assert "Grant letters" in page
    assert download in page


def test_staff_download_from_admin(client, django_user_model, django_capture_on_commit_callbacks):
    letter = issue(make_grant(), django_capture_on_commit_callbacks)
    url = reverse("admin:letters_grantletter_download", args=[letter.pk])
    assert client.get(url).status_code == 302  # to the login page
    staff = django_user_model.objects.create_user("auditor", password="x", is_staff=True)
    client.force_login(staff)
    assert client.get(url).status_code == 403  # staff without the view permission
    staff.user_permissions.add(Permission.objects.get(codename="view_grantletter"))
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf_of(letter)
    changelist = client.get(reverse("admin:letters_grantletter_changelist")).content.decode()
    assert letter.verification_code in changelist


def test_api_by_code_reports_state_hashes_and_the_current_version(
    client, django_capture_on_commit_callbacks
):
    grant = make_grant()
    first = issue(grant, django_capture_on_commit_callbacks)
    grant.version, grant.status = 2, "revoked"
    grant.save()
    second = issue(grant, django_capture_on_commit_callbacks)
    response = client.get(f"/api/letters/{first.verification_code.lower()}/")
    assert response.status_code == 200
    body = response.json()
    assert body["letter"]["sha256"] == first.sha256
    assert body["letter"]["state"] == "revoked"
    assert body["letter"]["content_sha256"] == first.content_sha256
    assert body["current"]["version"] == 2
    assert body["current"]["sha256"] == second.sha256
    assert body["grant_revoked"] is True
    assert client.get("/api/letters/K7QM-4XPR-9HTD/").status_code == 404


def test_api_by_sha256_finds_the_issued_version_only(client, django_capture_on_commit_callbacks):
    letter = issue(make_grant(), django_capture_on_commit_callbacks)
    found = client.get("/api/letters/", {"sha256": letter.sha256.upper()}).json()
    assert [(item["grant_id"], item["version"]) for item in found] == [(f"G-{letter.grant_id}", 1)]
    tampered = hashlib.sha256(pdf_of(letter) + b"\n").hexdigest()
    assert client.get("/api/letters/", {"sha256": tampered}).json() == []
    assert client.get("/api/letters/", {"sha256": "not-a-hash"}).status_code == 400
