"""The confirmation page comes from a frame kept once per process for its round (issue 9): what
each founder sees must be byte for byte the page rendered in full, with their own reference,
address and links, and a change to the round shows on the next page."""

import datetime as dt

import pytest

from applications import views
from applications.models import Application
from applications.services import status_token_make
from core import page_frames

from .conftest import OTHER_VALID_USCC, answers

pytestmark = pytest.mark.django_db


def submitted(client, language: str, **overrides) -> str:
    client.post(f"/{language}/apply/", answers(**overrides))
    response = client.post(f"/{language}/apply/check/")
    assert response.status_code == 302
    return response["Location"]


def rendered_in_full(client, monkeypatch, path: str) -> str:
    with monkeypatch.context() as patch:
        patch.setattr(views, "frame_usable", lambda request: False)
        return client.get(path).content.decode()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_each_founder_sees_their_own_confirmation_as_rendered_in_full(
    client, monkeypatch, open_round, language
):
    first = submitted(client, language)
    second = submitted(client, language, uscc=OTHER_VALID_USCC, email="li.na@example.cn")
    for path, email in ((first, "zhang.wei@example.cn"), (second, "li.na@example.cn")):
        response = client.get(path)
        assert response.status_code == 200
        assert response["Cache-Control"] == "private, no-store"
        page = response.content.decode()
        assert page == rendered_in_full(client, monkeypatch, path)
        application = Application.objects.get(email=email)
        token = path.rstrip("/").rsplit("/", 1)[1]
        assert application.reference in page and email in page
        assert f"/status/{token}/" in page and f"/submitted/{token}/receipt.pdf" in page
    assert len(page_frames._frames) == 1


def test_a_changed_closing_date_shows_on_the_next_confirmation(client, monkeypatch, open_round):
    path = submitted(client, "en")
    client.get(path)
    open_round.closes_at = dt.datetime(2031, 1, 2, 12, tzinfo=dt.UTC)
    open_round.save(update_fields=["closes_at"])
    page = client.get(path).content.decode()
    assert "Jan. 2, 2031" in page
    assert page == rendered_in_full(client, monkeypatch, path)


def test_a_bookmarked_confirmation_opens_without_a_session(client, open_round):
    application = Application.objects.get(reference=submitted_reference(client))
    client.cookies.clear()
    page = client.get(f"/en/apply/submitted/{status_token_make(application)}/")
    assert application.reference in page.content.decode()


def submitted_reference(client) -> str:
    submitted(client, "en")
    return Application.objects.get().reference
