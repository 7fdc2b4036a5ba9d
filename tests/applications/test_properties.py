"""Property tests: whatever a browser or an API client sends, the portal answers with a page or a
4xx (never a server error), and an invalid submission saves nothing."""

import json

import pytest
from django.test import Client, override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from applications.forms import ApplicationForm
from applications.models import Application, Commitment

from .conftest import answers, api_payload

pytestmark = pytest.mark.django_db

FORM_FIELDS = [*ApplicationForm.base_fields, "company_fax"]
API_FIELDS = list(api_payload())

# Text a person, a browser or a script might send: CJK, full-width, control characters, NUL.
any_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60
) | st.sampled_from(
    ["", " ", "0", "-1", "1e309", "２０２４年３月１日", "NaN", "\x00", "+86", "2024-02-30"]
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(any_text, children, max_size=3)
    ),
    max_leaves=6,
)

PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _counts():
    return Application.objects.count(), Commitment.objects.count()


@PROPERTY_SETTINGS
@given(changes=st.dictionaries(st.sampled_from(FORM_FIELDS), any_text, min_size=1, max_size=5))
@override_settings(APPLICATION_RATE_LIMIT_PER_HOUR=100_000)
def test_no_form_input_causes_a_server_error_or_saves_when_invalid(open_round, changes):
    client = Client()  # raises on any exception a view lets through (what would be a 500)
    before = _counts()
    data = {**answers(), **changes}
    first = client.post("/en/apply/", data)
    assert first.status_code in {200, 302, 400, 409}
    second = client.post("/en/apply/check/")
    assert second.status_code in {200, 302, 409}
    if first.status_code != 302:  # invalid, a duplicate or a bot: nothing may be saved
        assert _counts() == before


@PROPERTY_SETTINGS
@given(data=st.dictionaries(st.sampled_from(FORM_FIELDS), any_text, max_size=8))
@override_settings(APPLICATION_RATE_LIMIT_PER_HOUR=100_000)
def test_random_form_posts_in_chinese_never_fail(open_round, data):
    client = Client()
    before = _counts()
    response = client.post("/zh-hans/apply/", data)
    assert response.status_code in {200, 302, 400, 409}
    if response.status_code != 302:
        assert _counts() == before


@PROPERTY_SETTINGS
@given(changes=st.dictionaries(st.sampled_from(API_FIELDS), json_values, min_size=1, max_size=5))
@override_settings(APPLICATION_RATE_LIMIT_PER_HOUR=100_000)
def test_no_api_input_causes_a_server_error_or_saves_when_invalid(open_round, changes):
    client = Client()
    before = _counts()
    payload = {**api_payload(), **changes}
    response = client.post(
        "/api/applications/", json.dumps(payload), content_type="application/json"
    )
    assert response.status_code in {201, 400, 409}, response.content[:500]
    if response.status_code != 201:
        assert _counts() == before
    else:
        Application.objects.all().delete()  # keep the next example's company new


@PROPERTY_SETTINGS
@given(body=json_values)
def test_any_json_document_is_answered_without_a_server_error(open_round, body):
    response = Client().post(
        "/api/applications/", json.dumps(body), content_type="application/json"
    )
    assert response.status_code in {400, 409, 429}
    assert Application.objects.count() == 0
