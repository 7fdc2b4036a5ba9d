"""The API: open rounds, and submitting with exactly the rules and outcome of the web form."""

import pytest
from django.core import mail
from django.test import override_settings

from applications.models import Application
from tests.factories import RoundFactory

from .conftest import OTHER_VALID_USCC, VALID_USCC, answers, api_payload

pytestmark = pytest.mark.django_db


def test_open_rounds_are_listed_with_their_rules(client, open_round):
    import datetime as dt

    from django.utils import timezone

    RoundFactory(code="future", opens_at=timezone.now() + dt.timedelta(days=2))
    body = client.get("/api/rounds/").json()
    rounds = body["results"] if isinstance(body, dict) else body
    assert [r["code"] for r in rounds] == ["wuhan-2026-r2"]
    assert rounds[0]["grant_min_gpu_hours"] == 100
    assert rounds[0]["max_employees"] == 49
    detail = client.get("/api/rounds/wuhan-2026-r2/")
    assert detail.status_code == 200 and detail.json()["title_zh"] == "武汉2026年第二轮"
    assert client.get("/api/rounds/future/").status_code == 404


def test_submit_through_the_api_creates_the_application_and_sends_the_email(
    client, open_round, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/applications/", api_payload(), content_type="application/json")
    assert response.status_code == 201, response.json()
    body = response.json()
    application = Application.objects.get()
    assert body["reference"] == application.reference
    assert body["status"] == "eligible"
    assert application.mobile == "+8613800138000"
    assert [c.kind for c in application.commitments.all()] == ["open_weights"]
    assert len(mail.outbox) == 1


def test_the_api_refuses_a_second_application_of_the_company(client, open_round):
    assert (
        client.post(
            "/api/applications/", api_payload(), content_type="application/json"
        ).status_code
        == 201
    )
    again = client.post(
        "/api/applications/",
        api_payload(uscc="９１２３０１８４ＭＡ１ＢＵＦＬＴ４４", email="x@example.cn"),
        content_type="application/json",
    )
    assert again.status_code == 409
    assert Application.objects.count() == 1
    assert Application.objects.get().reference not in again.content.decode()


def test_the_api_answers_in_the_language_asked_for(client, open_round):
    response = client.post(
        "/api/applications/",
        api_payload(uscc="9123", language="en"),
        content_type="application/json",
    )
    assert "must be 18 characters; you entered 4" in response.json()["uscc"][0]
    response = client.post(
        "/api/applications/",
        api_payload(uscc="9123", language="zh-hans"),
        content_type="application/json",
    )
    assert "统一社会信用代码应为 18 位" in response.json()["uscc"][0]


# Each case: a form override and the same mistake in the API's shape.
PARITY_CASES = [
    ({"uscc": "91230184MA1BUFLT45"}, {"uscc": "91230184MA1BUFLT45"}, "uscc"),
    ({"uscc": "91230184MA1BUFLTI4"}, {"uscc": "91230184MA1BUFLTI4"}, "uscc"),
    ({"mobile": "123"}, {"mobile": "123"}, "mobile"),
    ({"email": "nope"}, {"email": "nope"}, "email"),
    ({"gpu_hours_requested": "50"}, {"gpu_hours_requested": 50}, "gpu_hours_requested"),
    ({"purpose": "x" * 1001}, {"purpose": "x" * 1001}, "purpose"),
    ({"founded_on": "2099-01-01"}, {"founded_on": "2099-01-01"}, "founded_on"),
    ({"employees": "0"}, {"employees": 0}, "employees"),
    ({"round": "nope"}, {"round": "nope"}, "round"),
    ({"consent_terms": None}, {"consent_terms": False}, "consent_terms"),
    ({"company_legal_name": ""}, {"company_legal_name": ""}, "company_legal_name"),
    ({"registration_city": "atlantis"}, {"registration_city": "atlantis"}, "registration_city"),
    ({"revenue_band": "billions"}, {"revenue_band": "billions"}, "revenue_band"),
]


@pytest.mark.parametrize(("form_change", "api_change", "field"), PARITY_CASES)
def test_form_and_api_refuse_the_same_input_with_the_same_message(
    client, open_round, form_change, api_change, field
):
    from django.utils import translation

    with translation.override("en"):
        page = client.post("/en/apply/", answers(**form_change)).content.decode()
    api = client.post(
        "/api/applications/",
        api_payload(language="en", **api_change),
        content_type="application/json",
    )
    assert api.status_code == 400
    messages = api.json()[field]
    assert messages
    import html

    for message in messages:
        assert message in html.unescape(page), (field, message)
    assert Application.objects.count() == 0


def test_commitment_and_center_errors_map_to_the_api_field_names(client, open_round):
    response = client.post(
        "/api/applications/",
        api_payload(commitments=[], preferred_centers=["wuhan-ai", "wuhan-ai"]),
        content_type="application/json",
    )
    body = response.json()
    assert response.status_code == 400
    assert "commitments" in body and "preferred_centers" in body


def test_form_and_api_accept_the_same_input_with_the_same_outcome(client, open_round):
    client.post("/en/apply/", answers(uscc=VALID_USCC, employees="49"))
    client.post("/en/apply/check/")
    client.post(
        "/api/applications/",
        api_payload(uscc=OTHER_VALID_USCC, employees=49, company_legal_name="庆阳星河语义有限公司"),
        content_type="application/json",
    )
    web, api = Application.objects.order_by("uscc")
    assert (
        (web.status, web.eligibility_rule)
        == (api.status, api.eligibility_rule)
        == (
            "needs_review",
            "employees_boundary",
        )
    )
    assert web.mobile == api.mobile == "+8613800138000"


@override_settings(APPLICATION_RATE_LIMIT_PER_HOUR=1)
def test_the_api_shares_the_rate_limit(client, open_round):
    assert (
        client.post(
            "/api/applications/", api_payload(), content_type="application/json"
        ).status_code
        == 201
    )
    second = client.post(
        "/api/applications/", api_payload(uscc=OTHER_VALID_USCC), content_type="application/json"
    )
    assert second.status_code == 429
    assert Application.objects.count() == 1


def test_the_schema_documents_the_application_endpoints(client, db):
    schema = client.get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    ).content.decode()
    assert "/api/applications/" in schema and "/api/rounds/" in schema
    assert "uscc" in schema
    assert client.get("/api/docs/").status_code == 200
