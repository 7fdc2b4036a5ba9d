"""A form body that is not UTF-8 is refused with 400 before any view, and stores nothing."""

import pytest

from applications.models import Application

from .conftest import answers

pytestmark = pytest.mark.django_db


def test_a_form_body_that_is_not_utf8_is_refused_in_both_languages(client, open_round):
    from urllib.parse import urlencode

    body = urlencode(answers(company_legal_name="X")).encode()
    body = body.replace(b"company_legal_name=X", b"company_legal_name=%FF%FE%80")
    response = client.post(
        "/en/apply/", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "not valid UTF-8" in text and "无法识别的字符" in text
    assert not Application.objects.exists()
    assert client.get("/en/apply/check/").status_code == 302  # nothing kept for the next page


def test_utf8_form_bodies_pass_through(client, open_round):
    response = client.post("/en/apply/", answers(company_legal_name="武汉深度求知科技有限公司"))
    assert response.status_code == 302
