"""The founder's status page section and evidence page; the staff admin."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone, translation

from applications.services import status_token_make
from milestones import services
from milestones.models import Milestone

from .factories import accepted_grant

pytestmark = pytest.mark.django_db

REPO = "/repos/shanshui-ai/lingxi-infer"
REPO_URL = "https://github.com/shanshui-ai/lingxi-infer"


def urls_for(grant, milestone, language="en"):
    token = status_token_make(grant.application)
    with translation.override(language):
        status = reverse("applications:status", kwargs={"token": token})
        evidence = reverse(
            "milestones:evidence_submit", kwargs={"token": token, "milestone_id": milestone.pk}
        )
    return status, evidence


def test_status_page_lists_milestones_with_a_link_to_submit(client):
    grant = accepted_grant(kinds=("open_code",))
    milestone = grant.milestones.get(kind="open_code")
    status, evidence = urls_for(grant, milestone)
    page = client.get(status)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="milestones"' in html
    assert "Open-source code" in html
    assert "Waiting for evidence" in html
    assert f'href="{evidence}"' in html
    assert str(milestone.tranche.amount) in html


def test_status_page_in_chinese_shows_the_chinese_rejection_reason(client, staff_user):
    grant = accepted_grant(kinds=("open_code",))
    milestone = grant.milestones.get(kind="open_code")
    services.milestone_evidence_submit(milestone=milestone, url=REPO_URL)
    Milestone.objects.filter(pk=milestone.pk).update(
        state="rejected",
        reason_en="The repository is a fork.",
        reason_zh="该仓库是复刻（fork），请提交原始仓库。",
        decided_at=timezone.now(),
    )
    status, _ = urls_for(grant, milestone, language="zh-hans")
    html = client.get(status).content.decode()
    assert "该仓库是复刻（fork），请提交原始仓库。" in html
    assert "The repository is a fork." not in html


def test_founder_submits_evidence_and_the_check_verifies_it(
    client, checker_settings, server, django_capture_on_commit_callbacks
):
    server.add(REPO, recorded="github/repo_ok.json")
    server.add(f"{REPO}/commits", recorded="github/commits_since.json")
    grant = accepted_grant(kinds=("open_code",))
    milestone = grant.milestones.get(kind="open_code")
    status, evidence = urls_for(grant, milestone)

    form = client.get(evidence)
    assert form.status_code == 200
    # same-origin: nothing goes to other sites, and the page's own POST keeps a real Origin.
    assert form["Referrer-Policy"] == "same-origin"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(evidence, {"evidence_url": REPO_URL, "note": "v0.3 released"})
    assert response.status_code == 302
    assert response["Location"] == f"{status}#milestone-{milestone.pk}"
    milestone.refresh_from_db()
    assert milestone.state == "verified"
    assert milestone.evidence_note == "v0.3 released"
    assert milestone.evidence_submitted_by is None
    page = client.get(status).content.decode()
    assert "Verified" in page


def test_invalid_evidence_shows_an_error_summary_and_keeps_the_value(client, settings):
    settings.MILESTONES_REQUIRE_HTTPS = True
    grant = accepted_grant(kinds=("paper",))
    milestone = grant.milestones.get(kind="paper")
    _, evidence = urls_for(grant, milestone)
    response = client.post(evidence, {"evidence_url": "http://arxiv.org/abs/2605.08123"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "<title>Error: " in html
    assert 'class="error-summary"' in html
    assert "Enter a link starting with https://" in html
    assert 'value="http://arxiv.org/abs/2605.08123"' in html
    milestone.refresh_from_db()
    assert milestone.state == "pending"


@pytest.mark.parametrize(
    "url",
    ["https://169.254.169.254/latest/meta-data/", "https://user:pw@github.com/a/b", "ftp://x.org/"],
)
def test_unsafe_links_are_refused_on_the_form(client, settings, url):
    settings.MILESTONES_FETCH_ALLOW_PRIVATE = False
    grant = accepted_grant(kinds=("product_launch",))
    milestone = grant.milestones.get(kind="product_launch")
    _, evidence = urls_for(grant, milestone)
    response = client.post(evidence, {"evidence_url": url})
    assert response.status_code == 400
    assert Milestone.objects.get(pk=milestone.pk).state == "pending"


def test_a_tampered_token_gets_the_invalid_link_page(client):
    grant = accepted_grant(kinds=("paper",))
    milestone = grant.milestones.get(kind="paper")
    _, evidence = urls_for(grant, milestone)
    response = client.post(evidence.replace("/status/", "/status/x"), {"evidence_url": REPO_URL})
    assert response.status_code == 404
    assert Milestone.objects.get(pk=milestone.pk).state == "pending"


def test_another_founders_milestone_cannot_be_touched(client):
    mine = accepted_grant(kinds=("paper",))
    theirs = accepted_grant(kinds=("paper",))
    their_milestone = theirs.milestones.get(kind="paper")
    token = status_token_make(mine.application)
    with translation.override("en"):
        url = reverse(
            "milestones:evidence_submit",
            kwargs={"token": token, "milestone_id": their_milestone.pk},
        )
    response = client.post(url, {"evidence_url": "https://arxiv.org/abs/2605.08123"})
    assert response.status_code == 302
    assert Milestone.objects.get(pk=their_milestone.pk).state == "pending"


def test_submissions_per_milestone_are_capped(client, settings):
    settings.MILESTONES_SUBMISSIONS_PER_HOUR = 2
    grant = accepted_grant(kinds=("paper",))
    milestone = grant.milestones.get(kind="paper")
    # The counter lives in the shared cache, where an earlier test's row may have had this id.
    cache.delete(f"milestones:submissions:{milestone.pk}")
    _, evidence = urls_for(grant, milestone)
    codes = [
        client.post(evidence, {"evidence_url": f"https://arxiv.org/abs/2605.0812{n}"}).status_code
        for n in range(3)
    ]
    assert codes == [302, 302, 400]
    assert Milestone.objects.get(pk=milestone.pk).evidence_revision == 2


# --- admin -------------------------------------------------------------------------------


def test_admin_changelist_and_review_filter_work_for_a_clerk(admin_client):
    grant = accepted_grant(kinds=("paper",))
    milestone = grant.milestones.get(kind="paper")
    services.milestone_evidence_submit(milestone=milestone, url="https://example.com/report.pdf")
    Milestone.objects.filter(pk=milestone.pk).update(needs_review=True)
    with translation.override("en"):
        url = reverse("admin:milestones_milestone_changelist")
    response = admin_client.get(url, {"needs_review__exact": "1"})
    assert response.status_code == 200
    assert grant.application.reference in response.content.decode()
    with translation.override("en"):
        change = reverse("admin:milestones_milestone_change", args=[milestone.pk])
    assert admin_client.get(change).status_code == 200


def test_admin_reject_action_asks_for_a_reason_then_rejects(admin_client):
    grant = accepted_grant(kinds=("paper",))
    milestone = grant.milestones.get(kind="paper")
    services.milestone_evidence_submit(milestone=milestone, url="https://example.com/report.pdf")
    with translation.override("en"):
        url = reverse("admin:milestones_milestone_changelist")
    ask = admin_client.post(url, {"action": "reject_action", "_selected_action": [milestone.pk]})
    assert ask.status_code == 200
    assert 'name="reason"' in ask.content.decode()
    assert Milestone.objects.get(pk=milestone.pk).state == "submitted"
    done = admin_client.post(
        url,
        {
            "action": "reject_action",
            "_selected_action": [milestone.pk],
            "apply": "1",
            "reason": "The report does not mention the grant.",
        },
    )
    assert done.status_code == 302
    milestone.refresh_from_db()
    assert milestone.state == "rejected"
    assert milestone.reason_en == "The report does not mention the grant."


def test_staff_correcting_evidence_in_admin_runs_the_check(
    admin_client, checker_settings, server, django_capture_on_commit_callbacks
):
    server.add(REPO, recorded="github/repo_ok.json")
    server.add(f"{REPO}/commits", recorded="github/commits_since.json")
    grant = accepted_grant(kinds=("open_code",))
    milestone = grant.milestones.get(kind="open_code")
    with translation.override("en"):
        change = reverse("admin:milestones_milestone_change", args=[milestone.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            change,
            {
                "evidence_url": REPO_URL,
                "evidence_note": "founder e-mailed it",
                "checks-TOTAL_FORMS": "0",
                "checks-INITIAL_FORMS": "0",
                "checks-MIN_NUM_FORMS": "0",
                "checks-MAX_NUM_FORMS": "1000",
            },
        )
    assert response.status_code == 302
    milestone.refresh_from_db()
    assert milestone.state == "verified"
    assert milestone.evidence_submitted_by is not None


def test_status_section_and_evidence_page_read_in_chinese(client):
    grant = accepted_grant(kinds=("open_weights",))
    milestone = grant.milestones.get(kind="open_weights")
    status, evidence = urls_for(grant, milestone, language="zh-hans")
    html = client.get(status).content.decode()
    assert "里程碑" in html
    assert "开源模型权重" in html
    assert "等待提交证明材料" in html
    page = client.get(evidence).content.decode()
    assert "证明材料：开源模型权重" in page
    assert "证明材料链接" in page


def test_only_staff_allowed_to_decide_see_the_decision_actions(client, django_user_model):
    from django.contrib.auth.models import Group, Permission

    from core.roles import ALLOCATORS
    from milestones import checkers

    grant = accepted_grant(kinds=("paper",))
    milestone = services.milestone_evidence_submit(
        milestone=grant.milestones.get(kind="paper"), url="https://example.com/report.pdf"
    )
    services.milestone_check_apply(
        milestone_id=milestone.pk,
        revision=milestone.evidence_revision,
        checker_kind="paper",
        result=checkers.CheckResult(checkers.Verdict.UNCERTAIN, "not on arXiv", "不在 arXiv", {}),
        started_at=timezone.now(),
    )
    with translation.override("en"):
        url = reverse("admin:milestones_milestone_changelist")
    viewer = django_user_model.objects.create_user("auditor", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_milestone"))
    client.force_login(viewer)
    page = client.get(url).content.decode()
    assert grant.application.reference in page
    assert "verify_action" not in page
    assert "forfeit_action" not in page

    allocator = django_user_model.objects.create_user("allocator1", password="pw", is_staff=True)
    allocator.groups.add(Group.objects.get(name=ALLOCATORS))
    client.force_login(allocator)
    page = client.get(url).content.decode()
    assert "verify_action" in page
    assert "forfeit_action" in page
    assert "uncertain (staff_review)" in page
