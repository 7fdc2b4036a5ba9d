"""Between the form and the check page the answers wait in a signed cookie of their own, so a
founder's journey never writes a session row; answers too long for a cookie use the session."""

import pytest
from django.contrib.sessions.models import Session
from django.core import signing

from applications.models import Application
from applications.views import PENDING_COOKIE, PENDING_COOKIE_MAX_BYTES, PENDING_SALT

from .conftest import answers

pytestmark = pytest.mark.django_db


def test_a_whole_journey_keeps_no_session_and_drops_the_answers_once_sent(client, open_round):
    posted = client.post("/en/apply/", answers())
    assert posted.status_code == 302
    cookie = posted.cookies[PENDING_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert "Company" in client.get("/en/apply/check/").content.decode()
    sent = client.post("/en/apply/check/")
    assert sent.status_code == 302
    assert sent.cookies[PENDING_COOKIE]["max-age"] == 0  # deleted: a second submit starts again
    assert client.get(sent["Location"]).status_code == 200
    assert Application.objects.filter(uscc=answers()["uscc"]).count() == 1
    assert Session.objects.count() == 0
    assert "sessionid" not in client.cookies
    assert client.get("/en/apply/check/")["Location"] == "/en/apply/"


def test_a_change_link_brings_the_answers_back_into_the_form(client, open_round):
    client.post("/en/apply/", answers(company_legal_name="回来的公司有限公司"))
    assert "回来的公司有限公司" in client.get("/en/apply/").content.decode()


def test_answers_altered_in_the_browser_are_ignored(client, open_round):
    client.post("/en/apply/", answers())
    token = client.cookies[PENDING_COOKIE].value
    payload = signing.loads(token, salt=PENDING_SALT)
    payload["gpu_hours_requested"] = "999999"
    forged = signing.dumps(payload, salt="someone-else", compress=True)
    client.cookies[PENDING_COOKIE] = forged
    response = client.get("/en/apply/check/")
    assert response.status_code == 302 and response["Location"] == "/en/apply/"
    assert client.post("/en/apply/check/").status_code == 302
    assert not Application.objects.exists()


def test_answers_too_long_for_a_cookie_wait_in_the_session_and_are_sent(client, open_round):
    # A thousand varied Chinese characters do not compress below the cookie limit.
    purpose = "".join(chr(0x4E00 + (number * 7919) % 20000) for number in range(1000))
    posted = client.post("/en/apply/", answers(purpose=purpose))
    assert posted.status_code == 302
    token = signing.dumps(answers(purpose=purpose), salt=PENDING_SALT, compress=True)
    assert len(token) > PENDING_COOKIE_MAX_BYTES
    assert PENDING_COOKIE not in client.cookies or not client.cookies[PENDING_COOKIE].value
    assert Session.objects.count() == 1
    assert client.get("/en/apply/check/").status_code == 200
    assert client.post("/en/apply/check/").status_code == 302
    assert Application.objects.get().purpose == purpose
