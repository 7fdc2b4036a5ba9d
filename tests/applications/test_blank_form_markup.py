"""The blank form is rendered once per process and served again (the deadline rush, issue 9):
what a founder sees must be exactly the form rendered field by field, and staff changes to
rounds and centers must show on the very next page."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from applications import selectors, views
from centers.models import Center
from tests.factories import CenterFactory, RoundFactory

from .conftest import answers

pytestmark = pytest.mark.django_db

CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def page(client, path: str = "/en/apply/") -> str:
    response = client.get(path)
    assert response.status_code == 200
    return CSRF_TOKEN.sub("", response.content.decode())


def field_by_field(client, monkeypatch, path: str = "/en/apply/") -> str:
    """The page as it was before the stores existed: every widget rendered on the request, and
    the page around them too (no frame kept in the process)."""
    with monkeypatch.context() as patch:
        patch.setattr(views, "frame_usable", lambda request: False)
        return page(client, path)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_stored_blank_form_is_the_form_rendered_field_by_field(
    client, monkeypatch, open_round, language
):
    RoundFactory(code="second-round", title_en="Second round", title_zh="第二轮")
    path = f"/{language}/apply/"
    first, again = page(client, path), page(client, path)
    assert first == again == field_by_field(client, monkeypatch, path)
    preselected = f"/{language}/apply/?round=second-round"
    assert page(client, preselected) == field_by_field(client, monkeypatch, preselected)


def test_a_round_opened_or_closed_and_a_center_renamed_show_on_the_next_page(client, open_round):
    """Saved as the admin saves them, in this process."""
    before = page(client)
    assert 'value="wuhan-2026-r2"' in before
    opened = RoundFactory(code="just-opened", title_en="Just opened round")
    assert 'value="just-opened"' in page(client)
    renamed = Center.objects.get(code="wuhan-ai")
    renamed.name_en = "Wuhan Renamed Computing Center"
    renamed.save()
    assert "Wuhan Renamed Computing Center" in page(client)
    withdrawn = Center.objects.get(code="qingyang-dc")
    withdrawn.is_active = False
    withdrawn.save()
    assert 'value="qingyang-dc"' not in page(client)
    opened.closes_at = timezone.now() - dt.timedelta(seconds=1)
    opened.save()
    shown = page(client)
    assert 'value="just-opened"' not in shown
    assert 'value="wuhan-2026-r2"' in shown


def test_a_change_saved_by_another_process_shows_once_the_offer_is_older_than_its_limit(
    client, open_round, monkeypatch
):
    """Another web process (or a bulk update) sends no signal here: the rounds and centers kept
    in this process are read again at most OFFER_MAX_AGE_SECONDS after they were read."""
    page(client)
    Center.objects.filter(code="wuhan-ai").update(name_en="Wuhan Renamed Computing Center")
    Center.objects.filter(code="qingyang-dc").update(is_active=False)
    read_at = selectors.offer_read().read_at
    later = read_at + selectors.OFFER_MAX_AGE_SECONDS + 0.01
    monkeypatch.setattr(selectors.time, "monotonic", lambda: later)
    shown = page(client)
    assert "Wuhan Renamed Computing Center" in shown
    assert 'value="qingyang-dc"' not in shown


def test_a_round_opens_and_closes_at_its_second_whenever_the_offer_was_read(
    client, open_round, monkeypatch
):
    upcoming = RoundFactory(
        code="upcoming",
        opens_at=timezone.now() + dt.timedelta(minutes=1),
        closes_at=open_round.closes_at + dt.timedelta(days=1),
    )
    assert 'value="upcoming"' not in page(client)
    monkeypatch.setattr(timezone, "now", lambda: upcoming.opens_at)
    assert 'value="upcoming"' in page(client)
    monkeypatch.setattr(timezone, "now", lambda: open_round.closes_at)
    shown = page(client)
    assert 'value="wuhan-2026-r2"' not in shown
    assert 'value="upcoming"' in shown


def test_the_language_of_the_stored_form_is_the_visitors(client, open_round):
    assert "Unified Social Credit Code" in page(client, "/en/apply/")
    chinese = page(client, "/zh-hans/apply/")
    assert "Unified Social Credit Code" not in chinese
    assert "统一社会信用代码" in chinese
    assert "武汉2026年第二轮" in chinese


def test_answers_sent_back_by_a_change_link_are_shown_not_the_blank_form(client, open_round):
    CenterFactory(code="extra-center", name_en="Extra Center")
    page(client)  # the blank form is now stored
    client.post("/en/apply/", answers(company_legal_name="Changed Name Ltd"))
    shown = page(client)
    assert 'value="Changed Name Ltd"' in shown


def test_errors_are_shown_on_the_form_after_a_blank_one_was_stored(client, open_round):
    page(client)
    response = client.post("/en/apply/", answers(uscc=""))
    assert response.status_code == 400
    assert "Enter the Unified Social Credit Code" in response.content.decode()


def test_the_kept_form_page_carries_each_visitors_own_csrf_token(open_round):
    from django.test import Client

    tokens = []
    for _visitor in range(2):  # the second page comes from the kept frame
        browser = Client(enforce_csrf_checks=True)
        form = browser.get("/en/apply/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.content.decode())
        assert form.cookies["csrftoken"].value
        tokens.append(token.group(1))
        sent = browser.post("/en/apply/", {**answers(), "csrfmiddlewaretoken": token.group(1)})
        assert sent.status_code == 302
    assert tokens[0] != tokens[1]
