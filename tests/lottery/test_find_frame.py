"""Find my reference answers from the draw page kept once per process (issue 9): what a
visitor sees must be byte for byte the page rendered in full, and whatever changes on the draw
(a withdrawal and its promotion, a renamed round, the draw itself) shows on the next request."""

import datetime as dt

import pytest

from core import page_frames
from lottery import services
from lottery import views as lottery_views
from tests.lottery.conftest import add_entrants, make_round, results_of
from tests.lottery.flow import completed_declared_draw

pytestmark = pytest.mark.django_db


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def rendered_in_full(client, monkeypatch, path: str) -> str:
    with monkeypatch.context() as patch:
        patch.setattr(lottery_views, "frame_usable", lambda request: False)
        return page(client, path)


def completed(code: str = "draw-frame", entrants: int = 6):
    round_ = make_round(
        code=code, closes_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC), winners=2, title_en="Frame"
    )
    add_entrants(round_, entrants)
    return completed_declared_draw(round_)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_found_reference_is_the_page_rendered_in_full(client, monkeypatch, language):
    draw = completed()
    for entry in results_of(draw):  # winners and waitlist
        path = f"/{language}/draws/{draw.draw_id}/?ref={entry.reference.lower()}"
        first, again = page(client, path), page(client, path)
        assert first == again == rendered_in_full(client, monkeypatch, path)
        assert f":{entry.reference}' | sha256sum" in first
        other = "en" if language == "zh-hans" else "zh-hans"
        assert f'href="/{other}/draws/{draw.draw_id}/?ref={entry.reference.lower()}"' in first


def test_the_frame_is_rendered_once_and_filled_per_request(client, monkeypatch):
    draw = completed()
    references = [entry.reference for entry in results_of(draw)]
    for reference in references:  # a frame per kind of answer: winner, waitlisted
        page(client, f"/en/draws/{draw.draw_id}/?ref={reference}")
    assert len(page_frames._frames) == 2
    renders = []
    original = lottery_views._page_context
    monkeypatch.setattr(
        lottery_views, "_page_context", lambda *a, **k: renders.append(1) or original(*a, **k)
    )
    for reference in references:
        assert reference in page(client, f"/en/draws/{draw.draw_id}/?ref={reference}")
    assert renders == []


def test_a_withdrawal_and_its_promotion_show_on_the_next_request(client, monkeypatch):
    draw = completed()
    winner = results_of(draw)[0]
    path = f"/en/draws/{draw.draw_id}/?ref={winner.reference}"
    before = page(client, path)
    promoted = services.entry_withdraw(entry=winner, reason="declined")
    after = page(client, path)
    assert after != before
    assert "withdrawn" in after and "Withdrawal" in after
    assert after == rendered_in_full(client, monkeypatch, path)
    promoted_path = f"/en/draws/{draw.draw_id}/?ref={promoted.reference}"
    assert "winner (promoted from the waitlist)" in page(client, promoted_path)
    assert page(client, promoted_path) == rendered_in_full(client, monkeypatch, promoted_path)


def test_entrants_in_groups_see_their_group(client, monkeypatch):
    round_ = make_round(
        code="draw-groups",
        closes_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
        winners=2,
        strata=(("wuhan", 1, None),),
    )
    add_entrants(round_, 6, stratum_of=lambda number: "wuhan" if number % 2 else "")
    draw = completed_declared_draw(round_)
    for entry in results_of(draw):
        path = f"/zh-hans/draws/{draw.draw_id}/?ref={entry.reference}"
        shown = page(client, path)
        assert shown == rendered_in_full(client, monkeypatch, path)
        answer = shown.split('<div class="inset" role="status">', 1)[1].split("</div>", 1)[0]
        assert ('<span class="mono">wuhan</span>' in answer) == (entry.stratum == "wuhan")


def test_a_renamed_round_shows_on_the_next_request(client, monkeypatch):
    draw = completed()
    path = f"/en/draws/{draw.draw_id}/?ref={results_of(draw)[0].reference}"
    assert "Draw for Frame" in page(client, path)
    draw.round.title_en = "Frame, renamed"
    draw.round.save(update_fields=["title_en"])
    assert "Draw for Frame, renamed" in page(client, path)
    assert page(client, path) == rendered_in_full(client, monkeypatch, path)


def test_before_the_draw_the_answer_says_whether_the_reference_is_listed(client, monkeypatch):
    round_ = make_round(code="draw-frozen", closes_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    applications = add_entrants(round_, 3)
    draw = services.draw_announce(
        round=round_, beacon_source="declared", beacon_description="A public event"
    )
    assert services.draw_freeze(draw=draw, now=round_.closes_at + dt.timedelta(hours=1))
    for reference, says in (
        (applications[0].reference, "is on the list of entrants"),
        ('<b>"NOPE"</b>', "&lt;b&gt;&quot;NOPE&quot;&lt;/b&gt; is not among the entrants"),
    ):
        path = f"/en/draws/{draw.draw_id}/?ref={reference}"
        assert says in page(client, path)
        assert page(client, path) == rendered_in_full(client, monkeypatch, path)


def test_a_reference_not_found_on_a_completed_draw_shows_the_results(client):
    draw = completed()
    text = page(client, f"/en/draws/{draw.draw_id}/?ref=NOPE-0000")
    assert "is not among the entrants" in text and 'id="results"' in text


def test_a_visitor_with_a_message_waiting_sees_it(client):
    from django.contrib.messages.storage.cookie import CookieStorage

    draw = completed()
    path = f"/en/draws/{draw.draw_id}/?ref={results_of(draw)[0].reference}"
    page(client, path)
    storage = CookieStorage(client.get("/en/").wsgi_request)
    response = client.get("/en/")
    storage._store(["Your application has been withdrawn."], response)
    client.cookies[CookieStorage.cookie_name] = response.cookies[CookieStorage.cookie_name].value
    assert "Your application has been withdrawn." in page(client, path)
