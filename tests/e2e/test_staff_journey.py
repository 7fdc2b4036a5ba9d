"""Journey 3 in a real browser, in both languages: the Django admin pages staff use. A reviewer
signs in, filters the applications that need review and decides one with a reason; an allocator
allocates the drawn winners to a center and sees the webhook deliveries the center received; an
auditor sees the same records but cannot change them. Every step: right `lang`, zero axe-core
violations, reflow at 320 px, screenshots at 320 and 1280 px."""

from __future__ import annotations

import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page, expect

from applications.models import Application
from centers.models import WebhookEndpoint
from core.demo import DEMO_PASSWORD, load_demo
from grants.models import Grant, WebhookDelivery
from grants.webhook_signing import generate_secret
from tests.factories import ApplicationFactory, GpuTypeFactory, RoundFactory
from tests.grants.factories import CenterCapacityFactory

from .conftest import NARROW, assert_accessible
from .data import completed_draw
from .journeys import Journey

pytestmark = pytest.mark.browser

REASON = {
    "zh-hans": "营业执照显示公司在武汉注册，员工人数已核实。",
    "en": "The business licence shows a Wuhan registration; the headcount was confirmed.",
}


class _Center(BaseHTTPRequestHandler):
    """The center's billing endpoint: takes every webhook with 204 (the contract's success)."""

    received: list[str] = []

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        type(self).received.append(self.headers.get("webhook-id", ""))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format, *args):
        return


@pytest.fixture
def center_endpoint():
    _Center.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Center)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/webhooks/", _Center.received
    server.shutdown()
    server.server_close()


@pytest.fixture
def staff_work(transactional_db, center_endpoint):
    """The demo staff (one per group), a drawn round with capacity at a center whose billing
    endpoint is live, and an application in an open round that the rules sent to review."""
    load_demo(stdout=io.StringIO())
    draw = completed_draw(entrants=4, winners=2)
    gpu_type = GpuTypeFactory()
    CenterCapacityFactory(gpu_type=gpu_type, round=draw.round)
    url, received = center_endpoint
    WebhookEndpoint.objects.create(center=gpu_type.center, url=url, secret=generate_secret())
    to_review = ApplicationFactory(
        round=RoundFactory(),
        status=Application.Status.NEEDS_REVIEW,
        eligibility_reason_zh="成立日期与营业执照不符，需人工核实。",
        eligibility_reason_en="The founding date differs from the business licence; a person checks it.",
    )
    return draw, to_review, received


def _sign_in(
    page: Page, journey: Journey, *, language: str, username: str, first: bool = False
) -> None:
    """Sign in on the admin's login page; its check and screenshots are kept the first time
    only (the page is the same for every user), the home page's for each role."""
    page.goto(f"/{language}/admin/login/")
    if first:
        journey.step("sign-in")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("#login-form [type=submit]").click()
    expect(page.locator("#site-name")).to_be_visible()
    expect(page.locator("#user-tools")).to_contain_text(username)
    journey.step(f"{username}-home")


@pytest.mark.parametrize(
    ("language", "width"), [("zh-hans", NARROW), ("en", 1280)], ids=["zh-hans", "en"]
)
def test_reviewer_allocator_and_auditor_in_the_admin(new_page, staff_work, language, width):
    draw, to_review, received = staff_work

    # The reviewer: the applications that need review, one decided with a reason.
    page = new_page(width=width)
    journey = Journey(page, name="3-staff", language=language)
    _sign_in(page, journey, language=language, username="reviewer", first=True)
    page.goto(f"/{language}/admin/applications/application/")
    journey.step("reviewer-applications")
    page.locator("#changelist-filter a[href*='status__exact=needs_review']").click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(to_review.reference)
    journey.step("reviewer-needs-review")
    rows.first.locator("th a").click()
    journey.step("reviewer-application")
    page.locator("#id_decision").select_option("eligible")
    page.locator("#id_decision_reason").fill(REASON[language])
    page.locator("input[name=_save]").click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    journey.step("reviewer-decided")
    to_review.refresh_from_db()
    assert to_review.status == Application.Status.ELIGIBLE
    assert REASON[language] in (to_review.eligibility_reason_zh, to_review.eligibility_reason_en)

    # The allocator: the proposal for the drawn round, confirmed; the center is told.
    page = new_page(width=width)
    _sign_in(page, journey, language=language, username="allocator")
    page.goto(f"/{language}/admin/grants/grant/")
    page.locator(".object-tools a[href$='/allocate/']").click()
    journey.step("allocator-choose-round")
    page.locator("#id_round").select_option(draw.round.code)
    page.locator("#content form [type=submit]").click()
    winners = list(draw.entries.filter(outcome="winner").order_by("rank"))
    proposal = page.locator("#content form tbody tr")
    expect(proposal).to_have_count(len(winners))
    for row, entry in zip(range(len(winners)), winners, strict=True):
        expect(proposal.nth(row)).to_contain_text(entry.reference)
    journey.step("allocator-proposal")
    page.locator("#content form input.default[type=submit]").click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    grants = Grant.objects.filter(draw_entry__draw=draw)
    assert grants.count() == len(winners)
    assert {g.status for g in grants} == {Grant.Status.OFFERED}
    journey.step("allocator-grants")
    page.goto(f"/{language}/admin/grants/webhookdelivery/")
    deliveries = WebhookDelivery.objects.filter(grant__in=grants)
    assert deliveries.count() == len(winners)
    assert {d.status for d in deliveries} == {WebhookDelivery.Status.SUCCEEDED}
    assert sorted(received) == sorted(d.event.webhook_id for d in deliveries)
    listed = page.locator("#result_list tbody tr")
    expect(listed).to_have_count(len(winners))
    for delivery in deliveries:
        expect(page.locator("#result_list")).to_contain_text(delivery.event.webhook_id)
    journey.step("allocator-webhook-deliveries")

    # The auditor: sees the decided application and the grants, cannot change anything.
    page = new_page(width=width)
    _sign_in(page, journey, language=language, username="auditor")
    page.goto(f"/{language}/admin/applications/application/{to_review.pk}/change/")
    expect(page.locator("#content")).to_contain_text(to_review.reference)
    expect(page.locator("input[name=_save], #id_decision")).to_have_count(0)
    journey.step("auditor-application")
    page.goto(f"/{language}/admin/grants/grant/")
    expect(page.locator("#result_list tbody tr")).to_have_count(len(winners))
    expect(page.locator(".object-tools a[href$='/allocate/']")).to_have_count(0)
    journey.step("auditor-grants")
    refused = page.goto(f"/{language}/admin/grants/grant/allocate/")
    assert refused is not None and refused.status == 403
    # Django's own plain 403 page (English only; the portal has no 403.html): axe-clean still.
    assert_accessible(page)
    assert Grant.objects.count() == len(winners)
