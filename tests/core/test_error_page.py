"""When something breaks (the database is down), a visitor gets the portal's own error page in
both languages, never a traceback or the database's error text."""

import pytest
from django.db import OperationalError


@pytest.fixture
def database_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed')

    monkeypatch.setattr("applications.selectors.offer_load", refuse)


def test_a_database_error_shows_the_bilingual_error_page(db, client, database_down, settings):
    settings.DEBUG = False
    client.raise_request_exception = False
    response = client.get("/en/apply/")
    page = response.content.decode()
    # Unavailable for a while, not broken: 503 with a hint when to come back.
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "Sorry, there is a problem with the service" in page
    assert "抱歉，服务暂时出错" in page
    assert "Application sent" in page  # how to tell whether the application was received
    for leak in ("Traceback", "OperationalError", "5432", "connection to server"):
        assert leak not in page


def test_any_other_failure_is_a_500_with_the_same_page(db, client, monkeypatch, settings):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("applications.selectors.offer_load", broken)
    settings.DEBUG = False
    client.raise_request_exception = False
    response = client.get("/en/apply/")
    assert response.status_code == 500
    assert "Retry-After" not in response
    assert "Sorry, there is a problem with the service" in response.content.decode()


@pytest.mark.parametrize(
    ("language", "heading", "elsewhere"),
    [("zh-hans", "找不到页面", "Page not found"), ("en", "Page not found", "找不到页面")],
)
def test_a_missing_page_says_so_in_the_visitors_language_and_offers_a_new_status_link(
    db, client, settings, language, heading, elsewhere
):
    settings.DEBUG = False
    response = client.get(f"/{language}/no-such-page/")
    page = response.content.decode()
    assert response.status_code == 404
    assert f"<h1>{heading}</h1>" in page
    assert elsewhere not in page
    assert f'href="/{language}/status/resend/"' in page  # a founder with a dead link gets a new one


@pytest.mark.parametrize(
    ("language", "heading"),
    [("zh-hans", "您没有执行此操作的权限"), ("en", "You do not have permission to do this")],
)
def test_staff_outside_a_role_are_told_why_in_their_language(
    db, client, settings, django_user_model, language, heading
):
    from django.contrib.auth.models import Group

    settings.DEBUG = False
    reviewer = django_user_model.objects.create_user("rev", "r@example.cn", "pw", is_staff=True)
    reviewer.groups.add(Group.objects.get(name="Reviewers"))
    client.force_login(reviewer)
    response = client.get(f"/{language}/admin/grants/grant/allocate/")
    assert response.status_code == 403
    assert f"<h1>{heading}</h1>" in response.content.decode()
