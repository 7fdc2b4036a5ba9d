"""The check-your-answers page comes from a frame kept once per process for the rows it lists
(issue 9): what each founder sees must be byte for byte the page rendered in full, their own
answers escaped as before, and the CSRF token their own."""

import re

import pytest
from django.test import Client

from applications import views
from core import page_frames

from .conftest import OTHER_VALID_USCC, answers

pytestmark = pytest.mark.django_db


# Masked anew on every page, kept or not.
CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def check_page(client, language: str, **overrides) -> str:
    assert client.post(f"/{language}/apply/", answers(**overrides)).status_code == 302
    response = client.get(f"/{language}/apply/check/")
    assert response.status_code == 200
    return CSRF_TOKEN.sub("", response.content.decode())


def rendered_in_full(client, monkeypatch, language: str) -> str:
    with monkeypatch.context() as patch:
        patch.setattr(views, "frame_usable", lambda request: False)
        return CSRF_TOKEN.sub("", client.get(f"/{language}/apply/check/").content.decode())


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_each_founders_answers_are_the_page_rendered_in_full(
    client, monkeypatch, open_round, language
):
    first = check_page(client, language)
    assert first == rendered_in_full(client, monkeypatch, language)
    second = check_page(
        client,
        language,
        company_legal_name='<b>"Acme" & Sons</b>',
        uscc=OTHER_VALID_USCC,
        purpose="Line one\nLine <two>",
    )
    assert second == rendered_in_full(client, monkeypatch, language)
    assert "&lt;b&gt;&quot;Acme&quot; &amp; Sons&lt;/b&gt;" in second
    assert "Line one<br>Line &lt;two&gt;" in second
    assert len(page_frames._frames) == 1


def test_other_kinds_of_answers_get_a_page_of_their_own(client, monkeypatch, open_round):
    check_page(client, "en")
    two_centers = check_page(client, "en", center_2="qingyang-dc")
    assert "Qingyang Data Center" in two_centers
    assert two_centers == rendered_in_full(client, monkeypatch, "en")
    assert len(page_frames._frames) == 2


def test_the_kept_page_carries_the_founders_own_csrf_token(open_round):
    tokens = []
    for uscc in (answers()["uscc"], OTHER_VALID_USCC):
        browser = Client(enforce_csrf_checks=True)
        form = browser.get("/en/apply/").content.decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
        browser.post("/en/apply/", {**answers(uscc=uscc), "csrfmiddlewaretoken": token})
        page = browser.get("/en/apply/check/").content.decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        tokens.append(token)
        sent = browser.post("/en/apply/check/", {"csrfmiddlewaretoken": token})
        assert sent.status_code == 302
    assert tokens[0] != tokens[1]
