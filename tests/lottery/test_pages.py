"""Public draw pages, the record at its stable URL, the API and the verifier download."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from lottery import verify_draw as verifier
from tests.lottery.conftest import add_entrants, make_round, results_of
from tests.lottery.helpers import VERIFIER

pytestmark = pytest.mark.django_db


def _record(client, draw_id):
    response = client.get(f"/draws/{draw_id}.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return json.loads(b"".join(response.streaming_content))


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_draw_list_shows_every_draw_with_its_state(client, completed, language):
    open_round = make_round(closes_at=completed.round.closes_at.replace(year=2031))
    from lottery import services

    services.draw_announce(round=open_round, now=open_round.opens_at)
    response = client.get(f"/{language}/draws/")
    assert response.status_code == 200
    page = response.content.decode()
    assert completed.draw_id in page and open_round.code in page
    assert ("Drawn" if language == "en" else 'lang="zh-hans"') in page


def test_draw_page_explains_publishes_and_paginates_results(client, completed):
    response = client.get(f"/en/draws/{completed.draw_id}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "How the draw works" in page
    assert completed.entrants_digest in page and completed.seed in page
    assert completed.beacon_value in page
    assert "What was published when" in page and "Results published" in page
    assert "python3 verify_draw.py http://testserver/draws/" + completed.draw_id + ".json" in page
    first_five = results_of(completed)[:5]
    for entry in first_five:
        assert entry.reference in page and entry.ticket in page
    sixth = results_of(completed)[5]
    assert sixth.reference not in page
    assert "Page 1 of 3" in page
    page2 = client.get(f"/en/draws/{completed.draw_id}/?page=2").content.decode()
    assert sixth.reference in page2 and "Page 2 of 3" in page2
    # Out-of-range pages fall back to a real page instead of erroring.
    assert client.get(f"/en/draws/{completed.draw_id}/?page=99").status_code == 200
    assert client.get(f"/en/draws/{completed.draw_id}/?page=x").status_code == 200


def test_chinese_draw_page_uses_chinese_dates(client, completed):
    page = client.get(f"/zh-hans/draws/{completed.draw_id}/").content.decode()
    assert "年" in page and "月" in page
    assert "抽签如何进行" in page and "自行验证" in page
    assert completed.seed in page


def test_find_my_reference(client, completed):
    entry = results_of(completed)[8]
    page = client.get(
        f"/en/draws/{completed.draw_id}/", {"ref": entry.reference.lower() + " "}
    ).content.decode()
    assert "rank 9" in page and entry.ticket in page
    assert f"printf '%s' '{completed.seed}:{entry.reference}' | sha256sum" in page
    missing = client.get(f"/en/draws/{completed.draw_id}/", {"ref": "NOPE-1"}).content.decode()
    assert "is not among the entrants" in missing


def test_find_my_reference_before_the_draw_uses_the_frozen_list(client):
    from lottery import services

    round_ = make_round()
    [first, *_] = add_entrants(round_, 4)
    draw = services.draw_announce(
        round=round_, beacon_source="declared", beacon_description="x", now=round_.opens_at
    )
    services.draw_freeze(draw=draw, now=round_.closes_at)
    page = client.get(f"/en/draws/{draw.draw_id}/", {"ref": first.reference}).content.decode()
    assert "is on the list of entrants" in page
    page = client.get(f"/en/draws/{draw.draw_id}/", {"ref": "ZZ-404"}).content.decode()
    assert "is not among the entrants" in page


def test_record_is_the_spec_record_and_verifies(client, completed):
    record = _record(client, completed.draw_id)
    for key in (
        "spec",
        "draw_id",
        "winners",
        "quotas",
        "entries_close_at",
        "entrants",
        "entrants_digest",
        "beacon",
        "seed",
        "results",
        "withdrawals",
        "promotions",
    ):
        assert key in record
    assert record["spec"] == "suanli-draw/1"
    assert record["entries_close_at"].endswith("Z")
    assert record["beacon"] == {
        "source": "declared",
        "description": completed.beacon_description,
        "value": completed.beacon_value,
    }
    assert [r["rank"] for r in record["results"]] == list(range(1, 13))
    report = verifier.Report(0)
    verifier.verify(record, report)
    assert report.total == 0, report.problems


def test_record_before_the_draw_has_nulls(client):
    from lottery import services

    round_ = make_round()
    add_entrants(round_, 2)
    draw = services.draw_announce(round=round_, now=round_.opens_at)
    before_close = _record(client, draw.draw_id)
    assert before_close["entrants"] is None and before_close["entrants_digest"] is None
    assert before_close["beacon"]["round"] == draw.beacon_round
    assert before_close["beacon"]["randomness"] is None
    assert before_close["seed"] is None and before_close["results"] is None
    services.draw_freeze(draw=draw, now=round_.closes_at)
    frozen = _record(client, draw.draw_id)
    assert len(frozen["entrants"]) == 2 and frozen["entrants_digest"]
    assert frozen["seed"] is None and frozen["results"] is None
    report = verifier.Report(0)
    verifier.verify(frozen, report)
    assert report.total == 0


def test_record_is_the_same_through_the_api(client, completed):
    response = client.get(f"/api/draws/{completed.draw_id}/record/")
    assert response.status_code == 200
    assert json.loads(b"".join(response.streaming_content)) == _record(client, completed.draw_id)


def test_api_lists_draws_and_finds_an_entry(client, completed):
    listing = client.get("/api/draws/").json()
    item = next(d for d in listing if d["draw_id"] == completed.draw_id)
    assert item["state"] == "completed" and item["seed"] == completed.seed
    assert item["record_url"] == f"http://testserver/draws/{completed.draw_id}.json"
    detail = client.get(f"/api/draws/{completed.draw_id}/").json()
    assert detail["entrants_digest"] == completed.entrants_digest
    entry = results_of(completed)[1]
    found = client.get(f"/api/draws/{completed.draw_id}/entries/{entry.reference}/").json()
    assert found["rank"] == 2 and found["ticket"] == entry.ticket
    assert client.get(f"/api/draws/{completed.draw_id}/entries/NOPE/").status_code == 404
    assert client.get("/api/draws/nope/").status_code == 404


def test_draw_endpoints_are_in_the_api_schema(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    for path in (
        "/api/draws/",
        "/api/draws/{draw_id}/",
        "/api/draws/{draw_id}/record/",
        "/api/draws/{draw_id}/entries/{reference}/",
    ):
        assert path in schema["paths"]


def test_the_verifier_download_is_the_repository_file(client):
    response = client.get(reverse("lottery_machine:verifier"))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == VERIFIER.read_bytes()
    assert "verify_draw.py" in response["Content-Disposition"]


def test_unknown_draw_is_404(client):
    assert client.get("/en/draws/no-such-draw/").status_code == 404
    assert client.get("/draws/no-such-draw.json").status_code == 404


def test_founder_status_page_shows_the_draw_result(client, completed):
    from applications.services import status_link_for

    entry = results_of(completed)[0]
    page = client.get(status_link_for(entry.application)).content.decode()
    assert f"/draws/{completed.draw_id}/?ref={entry.reference}" in page
    assert "rank 1" in page or "排名第 1" in page or "(rank 1)" in page


def test_withdrawals_and_promotions_appear_on_the_page_with_their_reason(client, completed):
    from lottery import selectors, services

    winner = selectors.draw_winners(draw=completed).first()
    promoted = services.entry_withdraw(entry=winner, reason="not_accepted")
    page = client.get(f"/en/draws/{completed.draw_id}/").content.decode()
    assert f"{winner.reference}</span> (did not accept in time)" in page
    assert f"takes the seat of {winner.reference}" in page
    assert promoted.reference in page
    zh = client.get(f"/zh-hans/draws/{completed.draw_id}/").content.decode()
    assert "未按时接受" in zh
