"""The close of a round is exact: a submission one second before it is accepted, one second
after it is refused with a message that says the round has closed, in the founder's language,
and nothing is stored. (drills/clock_edge.py does the same over real HTTP on gunicorn.)"""

import datetime as dt

import pytest
from django.utils import timezone

from applications.models import Application
from applications.services import RoundNotOpen, application_submit

from .conftest import answers

pytestmark = pytest.mark.django_db

CLOSED_EN = "This round has closed. Select a round that is open"
CLOSED_ZH = "该轮次已截止，请选择正在开放的轮次"


@pytest.fixture
def closing_round(open_round):
    """The open round, closing at a whole second an hour from now."""
    open_round.closes_at = (timezone.now() + dt.timedelta(hours=1)).replace(microsecond=0)
    open_round.save(update_fields=["closes_at"])
    return open_round


def at(monkeypatch, moment):
    """Every clock read in the request (form, service) sees ``moment``."""
    monkeypatch.setattr(timezone, "now", lambda: moment)


def fill_in(client, language: str) -> None:
    response = client.post(f"/{language}/apply/", answers())
    assert response.status_code == 302, response.content.decode()[:2000]


def test_the_service_takes_close_minus_one_second_and_refuses_close_and_after(closing_round):
    form = answers()
    close = closing_round.closes_at
    submission = {
        "round": closing_round,
        "company_legal_name": form["company_legal_name"],
        "uscc": form["uscc"],
        "registration_city": "wuhan",
        "founded_on": dt.date(2024, 3, 1),
        "employees": 12,
        "revenue_band": "pre_revenue",
        "website": "",
        "founder_name": "张伟",
        "email": "zhang.wei@example.cn",
        "mobile": "+8613800138000",
        "preferred_centers": [],
        "gpu_hours_requested": 1000,
        "purpose": "训练一个小模型。",
        "commitments": [],
        "consent_terms": True,
        "consent_publish_name": False,
        "language": "en",
    }
    for moment in (close, close + dt.timedelta(seconds=1)):
        with pytest.raises(RoundNotOpen):
            application_submit(**submission, now=moment)
    assert not Application.objects.exists()
    application = application_submit(**submission, now=close - dt.timedelta(seconds=1))
    assert application.submitted_at == close - dt.timedelta(seconds=1)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_submitting_one_second_before_close_is_accepted(
    client, closing_round, monkeypatch, language
):
    fill_in(client, language)
    at(monkeypatch, closing_round.closes_at - dt.timedelta(seconds=1))
    response = client.post(f"/{language}/apply/check/")
    assert response.status_code == 302
    assert f"/{language}/apply/submitted/" in response["Location"]
    assert Application.objects.get().submitted_at < closing_round.closes_at


@pytest.mark.parametrize(("language", "message"), [("en", CLOSED_EN), ("zh-hans", CLOSED_ZH)])
def test_submitting_one_second_after_close_is_refused_and_says_so(
    client, closing_round, monkeypatch, language, message
):
    fill_in(client, language)  # answers given while the round was open
    at(monkeypatch, closing_round.closes_at + dt.timedelta(seconds=1))
    response = client.post(f"/{language}/apply/check/")
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Application.objects.exists()
