"""Staff in admin, as each group: Reviewers decide eligibility, Allocators and Auditors only look,
nobody edits what a founder submitted, and a round's rules freeze when it opens."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from applications.models import Application, Round, Stratum
from core.models import AuditEvent
from tests.factories import ApplicationFactory, RoundFactory

pytestmark = pytest.mark.django_db


def staff(username: str, group: str | None = None, **extra) -> User:
    user = User.objects.create_user(username, password="pw", is_staff=True, **extra)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def review_case(open_round):
    return ApplicationFactory(
        round=open_round,
        status=Application.Status.NEEDS_REVIEW,
        eligibility_rule="employees_boundary",
        employees=49,
        language="en",
    )


def change_url(application):
    return f"/en/admin/applications/application/{application.pk}/change/"


CHANGELIST = "/en/admin/applications/application/"


def decide_on_change_page(client, application, decision="eligible", reason="Payroll shows 49."):
    data = {"decision": decision, "decision_reason": reason}
    for prefix, rows in [
        ("center_preferences", application.center_preferences.count()),
        ("commitments", application.commitments.count()),
    ]:  # the read-only inlines' management forms, as the browser sends them
        data.update({f"{prefix}-TOTAL_FORMS": rows, f"{prefix}-INITIAL_FORMS": rows})
    return client.post(change_url(application), data)


def test_a_reviewer_decides_on_the_change_page_with_a_required_reason(
    client, review_case, django_capture_on_commit_callbacks
):
    reviewer = staff("reviewer", "Reviewers")
    client.force_login(reviewer)
    page = client.get(change_url(review_case)).content.decode()
    assert 'name="decision_reason"' in page
    assert 'name="company_legal_name"' not in page  # applicant data is read-only
    refused = decide_on_change_page(client, review_case, reason="  ")
    assert refused.status_code == 200
    assert "Give the reason for the decision" in refused.content.decode()
    review_case.refresh_from_db()
    assert review_case.status == Application.Status.NEEDS_REVIEW
    with django_capture_on_commit_callbacks(execute=True):
        response = decide_on_change_page(client, review_case)
    assert response.status_code == 302
    review_case.refresh_from_db()
    assert review_case.status == Application.Status.ELIGIBLE
    assert review_case.decided_by == reviewer
    assert review_case.eligibility_reason_en == "Payroll shows 49."
    event = AuditEvent.objects.get(action="application.eligibility_decided")
    assert event.actor == reviewer and event.detail["reason"] == "Payroll shows 49."
    # Field-level history: who, when, what.
    latest = review_case.history.first()
    assert latest.history_user == reviewer
    assert latest.status == "eligible"
    assert review_case.history.count() == 2


def test_a_reviewer_decides_in_bulk_through_a_page_that_asks_for_the_reason(client, open_round):
    cases = [
        ApplicationFactory(round=open_round, status=Application.Status.NEEDS_REVIEW)
        for _ in range(3)
    ]
    client.force_login(staff("reviewer", "Reviewers"))
    ids = [str(a.pk) for a in cases]
    intermediate = client.post(CHANGELIST, {"action": "decide_in_bulk", "_selected_action": ids})
    assert intermediate.status_code == 200
    assert 'name="reason"' in intermediate.content.decode()
    assert set(Application.objects.values_list("status", flat=True)) == {"needs_review"}
    missing_reason = client.post(
        CHANGELIST,
        {
            "action": "decide_in_bulk",
            "_selected_action": ids,
            "apply": "1",
            "status": "ineligible",
            "reason": "",
        },
    )
    assert missing_reason.status_code == 200
    assert set(Application.objects.values_list("status", flat=True)) == {"needs_review"}
    done = client.post(
        CHANGELIST,
        {
            "action": "decide_in_bulk",
            "_selected_action": ids,
            "apply": "1",
            "status": "ineligible",
            "reason": "Registered outside the program's cities.",
        },
    )
    assert done.status_code == 302
    assert set(Application.objects.values_list("status", flat=True)) == {"ineligible"}
    assert AuditEvent.objects.filter(action="application.eligibility_decided").count() == 3


@pytest.mark.parametrize("group", ["Allocators", "Auditors"])
def test_allocators_and_auditors_see_applications_but_cannot_decide(client, review_case, group):
    client.force_login(staff(group.lower(), group))
    assert client.get(CHANGELIST).status_code == 200
    page = client.get(change_url(review_case))
    assert page.status_code == 200
    assert 'name="decision"' not in page.content.decode()
    assert decide_on_change_page(client, review_case).status_code == 403
    bulk = client.post(
        CHANGELIST,
        {
            "action": "decide_in_bulk",
            "_selected_action": [review_case.pk],
            "apply": "1",
            "status": "eligible",
            "reason": "x",
        },
    )
    assert bulk.status_code in {200, 302}
    review_case.refresh_from_db()
    assert review_case.status == Application.Status.NEEDS_REVIEW
    assert "decide_in_bulk" not in client.get(CHANGELIST).content.decode()


@pytest.mark.parametrize("group", ["Reviewers", "Allocators", "Auditors"])
def test_no_group_may_add_or_delete_applications_or_edit_rounds(
    client, open_round, review_case, group
):
    client.force_login(staff(group.lower(), group))
    assert client.get("/en/admin/applications/application/add/").status_code == 403
    delete = client.post(
        f"/en/admin/applications/application/{review_case.pk}/delete/", {"post": "yes"}
    )
    assert delete.status_code == 403
    assert Application.objects.filter(pk=review_case.pk).exists()
    round_change = client.post(
        f"/en/admin/applications/round/{open_round.pk}/change/", {"winners": 99}
    )
    assert round_change.status_code == 403
    open_round.refresh_from_db()
    assert open_round.winners != 99


def test_auditors_can_read_the_audit_log_and_rounds_and_change_nothing(client, open_round):
    client.force_login(staff("auditor", "Auditors"))
    assert client.get("/en/admin/core/auditevent/").status_code == 200
    assert client.get("/en/admin/applications/round/").status_code == 200
    assert client.get(f"/en/admin/applications/round/{open_round.pk}/change/").status_code == 200
    assert client.get("/en/admin/applications/round/add/").status_code == 403


def test_reviewers_cannot_see_what_is_not_theirs(client, db):
    client.force_login(staff("reviewer", "Reviewers"))
    assert client.get("/en/admin/core/auditevent/").status_code == 403
    assert client.get("/en/admin/auth/user/").status_code == 403


def test_a_user_in_no_group_sees_nothing(client, review_case):
    client.force_login(staff("nobody"))
    assert client.get(CHANGELIST).status_code == 403
    assert client.get(change_url(review_case)).status_code == 403


def test_changelist_filters_facets_and_search(client, open_round):
    ApplicationFactory(
        round=open_round, employees=5, registration_city="wuhan", company_legal_name="甲公司"
    )
    ApplicationFactory(
        round=open_round, employees=30, registration_city="beijing", company_legal_name="乙公司"
    )
    target = ApplicationFactory(
        round=open_round, employees=8, uscc="91310110666007217T", company_legal_name="丙公司"
    )
    RoundFactory(code="another-round")  # the round filter shows once there is a choice
    client.force_login(staff("auditor", "Auditors"))
    page = client.get(CHANGELIST).content.decode()
    for title in ["By round", "By status", "By registration city", "By size band"]:
        assert title in page
    assert "(2)" in page  # facet count for the 1-9 band
    small = client.get(CHANGELIST, {"size_band": "1-9"}).content.decode()
    assert "甲公司" in small and "丙公司" in small and "乙公司" not in small
    city = client.get(CHANGELIST, {"city": "beijing"}).content.decode()
    assert "乙公司" in city and "甲公司" not in city
    for term in [target.reference, "丙公司", "91310110666007217T", "9131 0110 6660 0721 7t"]:
        found = client.get(CHANGELIST, {"q": term}).content.decode()
        assert "丙公司" in found and "甲公司" not in found, term


def test_a_superuser_may_change_a_round_before_it_opens(admin_client):
    future = RoundFactory(
        opens_at=timezone.now() + dt.timedelta(days=3),
        closes_at=timezone.now() + dt.timedelta(days=30),
    )
    response = admin_client.post(
        f"/en/admin/applications/round/{future.pk}/change/", round_form_data(future, winners=7)
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    future.refresh_from_db()
    assert future.winners == 7


def test_an_opened_round_refuses_rule_changes_with_a_clear_message(admin_client, open_round):
    response = admin_client.post(
        f"/en/admin/applications/round/{open_round.pk}/change/",
        round_form_data(open_round, winners=open_round.winners + 1, max_employees=99),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "rules are frozen and cannot change" in page
    open_round.refresh_from_db()
    assert open_round.max_employees == 49
    # Titles are not rules: they may still be corrected.
    fixed = admin_client.post(
        f"/en/admin/applications/round/{open_round.pk}/change/",
        round_form_data(open_round, title_en="Wuhan 2026, second round"),
    )
    assert fixed.status_code == 302


def test_an_opened_round_refuses_changes_to_its_strata(admin_client, open_round):
    stratum = Stratum.objects.create(
        round=open_round, code="micro", name_zh="微", name_en="Micro", reserved=1
    )
    data = round_form_data(open_round)
    data.update(
        {
            "strata-TOTAL_FORMS": "1",
            "strata-INITIAL_FORMS": "1",
            "strata-0-id": str(stratum.pk),
            "strata-0-round": str(open_round.pk),
            "strata-0-code": "micro",
            "strata-0-name_zh": "微",
            "strata-0-name_en": "Micro",
            "strata-0-reserved": "3",
            "strata-0-position": "0",
            "strata-0-match_cities": "[]",
            "strata-0-match_size_bands": "[]",
        }
    )
    response = admin_client.post(f"/en/admin/applications/round/{open_round.pk}/change/", data)
    assert response.status_code == 200
    assert "strata (reserved places and caps) are frozen" in response.content.decode()
    stratum.refresh_from_db()
    assert stratum.reserved == 1


def round_form_data(round_: Round, **changes) -> dict:
    local = timezone.localtime
    values = {
        "program": round_.program_id,
        "code": round_.code,
        "title_zh": round_.title_zh,
        "title_en": round_.title_en,
        "opens_at_0": local(round_.opens_at).strftime("%Y-%m-%d"),
        "opens_at_1": local(round_.opens_at).strftime("%H:%M:%S"),
        "closes_at_0": local(round_.closes_at).strftime("%Y-%m-%d"),
        "closes_at_1": local(round_.closes_at).strftime("%H:%M:%S"),
        "gpu_hours_on_offer": round_.gpu_hours_on_offer,
        "tokens_on_offer": round_.tokens_on_offer,
        "grant_min_gpu_hours": round_.grant_min_gpu_hours,
        "grant_max_gpu_hours": round_.grant_max_gpu_hours,
        "winners": round_.winners,
        "max_employees": round_.max_employees,
        "max_company_age_years": round_.max_company_age_years or "",
        "eligible_cities": "[]",
        "acceptance_window_days": round_.acceptance_window_days,
        "review_deadline_0": "",
        "review_deadline_1": "",
        "strata-TOTAL_FORMS": "0",
        "strata-INITIAL_FORMS": "0",
        "strata-MIN_NUM_FORMS": "0",
        "strata-MAX_NUM_FORMS": "1000",
    }
    values.update(changes)
    return values


def test_history_pages_show_who_changed_what(client, review_case, open_round):
    reviewer = staff("reviewer", "Reviewers")
    client.force_login(reviewer)
    decide_on_change_page(client, review_case, decision="ineligible", reason="Too many staff.")
    client.force_login(staff("auditor", "Auditors"))
    history = client.get(change_url(review_case).replace("/change/", "/history/"))
    assert history.status_code == 200
    page = history.content.decode()
    assert "reviewer" in page and "ineligible" in page.lower()
    for url in [
        f"/en/admin/applications/round/{open_round.pk}/history/",
        f"/en/admin/applications/cityprogram/{open_round.program_id}/history/",
    ]:
        assert client.get(url).status_code == 200, url
