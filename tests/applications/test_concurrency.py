"""Two submissions for the same company at the same instant, against PostgreSQL: the unique
constraint lets exactly one through, and the other founder is told it is a duplicate."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from applications.models import Application
from applications.services import CommitmentInput, DuplicateApplication, application_submit
from tests.factories import CenterFactory, RoundFactory

pytestmark = pytest.mark.services


def _submit(round_, center, email):
    return application_submit(
        round=round_,
        company_legal_name="武汉深度求知科技有限公司",
        uscc="91230184MA1BUFLT44",
        registration_city="wuhan",
        founded_on=dt.date(2024, 3, 1),
        employees=12,
        revenue_band="pre_revenue",
        website="",
        founder_name="张伟",
        email=email,
        mobile="+8613800138000",
        preferred_centers=[center],
        gpu_hours_requested=1000,
        purpose="训练模型",
        commitments=[CommitmentInput("paper", timezone.localdate() + dt.timedelta(days=90))],
        consent_terms=True,
        consent_publish_name=False,
        language="zh-hans",
    )


def test_two_submissions_at_the_same_instant_leave_exactly_one_row(transactional_db):
    if connection.vendor != "postgresql":
        pytest.fail("this test needs DATABASE_URL pointing at PostgreSQL (CI's service lane)")
    center = CenterFactory()
    for attempt in range(5):  # several rounds of the race, each with a fresh round
        round_ = RoundFactory(code=f"race-{attempt}")
        barrier = threading.Barrier(8)
        outcomes: list[str] = []
        errors: list[BaseException] = []

        def founder(number: int, round_=round_, barrier=barrier, outcomes=outcomes, errors=errors):
            try:
                barrier.wait(timeout=10)
                _submit(round_, center, f"founder{number}@example.cn")
                outcomes.append("created")
            except DuplicateApplication:
                outcomes.append("duplicate")
            except BaseException as error:  # reported by the main thread
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=founder, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors, errors
        assert sorted(outcomes) == ["created"] + ["duplicate"] * 7
        assert Application.objects.filter(round=round_).count() == 1
