import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from applications.models import Application
from tests.factories import ApplicationFactory, ProgramFactory, RoundFactory

from .factories import capacity_for, draw_made, grant_made


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def scenario(db, django_capture_on_commit_callbacks):
    """One open round in Wuhan with four applications, a draw and two grants:

    - A1: 5 employees, Wuhan, named; drawn; grant of 1000 GPU-hours accepted, open weights
      verified, 200 used.
    - A2: 15 employees, Qingyang, name not published; drawn; grant of 2000 offered, not accepted.
    - A3: 30 employees, ineligible.  A4: 12 employees, eligible, on the waitlist.
    """
    program = ProgramFactory()
    round_ = RoundFactory(program=program, code="wuhan-2026-1", gpu_hours_on_offer=50_000)
    today = timezone.now()
    a1 = ApplicationFactory(
        round=round_,
        employees=5,
        company_legal_name="江城智算科技有限公司",
        consent_publish_name=True,
        founded_on=timezone.localdate() - dt.timedelta(days=200),
        submitted_at=today,
    )
    a2 = ApplicationFactory(
        round=round_,
        employees=15,
        registration_city="qingyang",
        company_legal_name="隐名科技有限公司",
        consent_publish_name=False,
        founded_on=timezone.localdate() - dt.timedelta(days=800),
        revenue_band=Application.RevenueBand.UNDER_1M,
        submitted_at=today,
    )
    two_years_old = timezone.localdate() - dt.timedelta(days=730)
    a3 = ApplicationFactory(
        round=round_,
        employees=30,
        status=Application.Status.INELIGIBLE,
        founded_on=two_years_old,
        submitted_at=today,
    )
    a4 = ApplicationFactory(
        round=round_, employees=12, founded_on=two_years_old, submitted_at=today
    )
    draw = draw_made(round_, [(a1, "", "winner"), (a2, "", "winner"), (a4, "", "waitlist")])
    capacity = capacity_for(round_)
    with django_capture_on_commit_callbacks(execute=False):
        g1 = grant_made(
            capacity=capacity,
            application=a1,
            amount="1000",
            verify=("open_weights",),
            used="200",
            draw_entry=draw.entries.get(application=a1),
        )
        g2 = grant_made(
            capacity=capacity,
            application=a2,
            amount="2000",
            accept=False,
            draw_entry=draw.entries.get(application=a2),
        )
    return {"round": round_, "apps": (a1, a2, a3, a4), "grants": (g1, g2), "draw": draw}
