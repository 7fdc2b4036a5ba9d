"""When something breaks (the database is down), a visitor gets the portal's own error page in
both languages, never a traceback or the database's error text."""

import pytest
from django.db import OperationalError


@pytest.fixture
def database_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed')

    monkeypatch.setattr("applications.forms.rounds_open", refuse)


def test_a_database_error_shows_the_bilingual_error_page(db, client, database_down, settings):
    settings.DEBUG = False
    client.raise_request_exception = False
    response = client.get("/en/apply/")
    page = response.content.decode()
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in page
    assert "抱歉，服务暂时出错" in page
    assert "Application sent" in page  # how to tell whether the application was received
    for leak in ("Traceback", "OperationalError", "5432", "connection to server"):
        assert leak not in page
