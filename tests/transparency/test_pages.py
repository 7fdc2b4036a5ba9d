"""The public dashboard and register: readable charts with tables, both languages, downloads."""

import csv
import io
import json
import re

import pytest

from transparency.register import COLUMNS as REGISTER_COLUMNS


@pytest.mark.parametrize(
    ("language", "heading", "city"),
    [("en", "Where the compute went and what it produced", "Wuhan"), ("zh-hans", None, "武汉")],
)
def test_dashboard_shows_accessible_charts_with_tables_in_both_languages(
    client, scenario, language, heading, city
):
    response = client.get(f"/{language}/transparency/")
    assert response.status_code == 200
    page = response.content.decode()
    assert f'<html lang="{language}">' in page
    if heading:
        assert heading in page
    assert city in page
    svgs = re.findall(r"<svg[^>]*>.*?</svg>", page, flags=re.S)
    assert len(svgs) >= 10
    for svg in svgs:
        assert 'role="img"' in svg
        ids = re.search(r'aria-labelledby="([^"]+) ([^"]+)"', svg).groups()
        assert f'<title id="{ids[0]}">' in svg
        assert f'<desc id="{ids[1]}">' in svg
    # Each chart has its table beside it, with the same numbers.
    assert page.count("<table") >= len(svgs) - 1
    # Readable without JavaScript, nothing loaded from elsewhere (only links to evidence).
    assert "<script" not in page
    assert re.findall(r'src="https?://', page) == []
    assert all(
        link.startswith("https://github.com/example/")
        for link in re.findall(r'href="(https?://[^"]+)"', page)
    )


def test_dashboard_scope_picks_one_program_or_round(client, scenario):
    page = client.get("/en/transparency/?scope=round:wuhan-2026-1").content.decode()
    assert 'value="round:wuhan-2026-1" selected' in page
    unknown = client.get("/en/transparency/?scope=round:nope")
    assert unknown.status_code == 200
    assert 'value="all" selected' in unknown.content.decode()


def test_figure_downloads_have_stable_columns_and_generated_at(client, scenario):
    response = client.get("/en/transparency/figures/funnel.csv?scope=all")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert list(rows[0]) == ["scope", "stage", "label", "count", "generated_at"]
    assert {r["stage"]: int(r["count"]) for r in rows} == {
        "received": 4,
        "eligible": 3,
        "drawn": 2,
        "granted": 2,
        "accepted": 1,
    }
    assert rows[0]["generated_at"]
    document = client.get("/en/transparency/figures.json").json()
    assert document["generated_at"] == rows[0]["generated_at"]
    assert document["tables"]["funnel"][0] == {
        "stage": "received",
        "label": "Applications received",
        "count": 4,
    }
    assert client.get("/en/transparency/figures/nonsense.csv").status_code == 404


def test_register_names_only_companies_that_consented(client, scenario):
    page = client.get("/en/transparency/grants/").content.decode()
    assert "江城智算科技有限公司" in page
    assert "隐名科技有限公司" not in page
    assert "Consent not given" in page
    assert "10-19 employees" in page
    zh = client.get("/zh-hans/transparency/grants/").content.decode()
    assert "隐名科技有限公司" not in zh


def test_register_downloads_are_exactly_what_the_page_shows(client, scenario):
    g1, g2 = scenario["grants"]
    data = client.get("/en/transparency/grants.json?city=qingyang&page=1").json()
    assert data["filters"] == {"city": "qingyang"}
    assert data["columns"] == list(REGISTER_COLUMNS)
    [row] = data["results"]
    assert row["grant"] == f"G-{g2.pk}"
    assert row["company"] is None
    assert row["name_published"] is False
    assert row["size_band"] == "10-19"
    assert row["amount"] == 2000.0
    assert data["generated_at"]

    everything = client.get("/en/transparency/grants.csv")
    rows = list(csv.DictReader(io.StringIO(everything.content.decode("utf-8-sig"))))
    assert list(rows[0]) == [*REGISTER_COLUMNS, "generated_at"]
    by_grant = {r["grant"]: r for r in rows}
    assert set(by_grant) == {f"G-{g1.pk}", f"G-{g2.pk}"}
    named = by_grant[f"G-{g1.pk}"]
    assert named["company"] == "江城智算科技有限公司"
    assert float(named["used"]) == 200
    assert float(named["released"]) == float(g1.released)
    assert "open_weights:verified:" in named["milestones"]
    assert f"https://github.com/example/{g1.pk}-open_weights" in named["milestones"]
    assert by_grant[f"G-{g2.pk}"]["company"] == ""


def test_register_filters_and_pages(client, scenario, settings):
    settings.TRANSPARENCY_REGISTER_PAGE_SIZE = 1
    first = client.get("/en/transparency/grants/?round=wuhan-2026-1").content.decode()
    assert "Page 1 of 2" in first
    assert "page=2" in first
    json_page_2 = client.get("/en/transparency/grants.json?round=wuhan-2026-1&page=2").json()
    assert json_page_2["count"] == 1
    accepted = client.get("/en/transparency/grants.json?status=active").json()["results"]
    assert [r["status"] for r in accepted] == ["active"]
    # An unknown filter value filters nothing rather than failing.
    assert client.get("/en/transparency/grants.json?center=nope").json()["count"] == 2


def test_evidence_of_unverified_milestones_is_not_published(client, scenario):
    data = client.get("/en/transparency/grants.json").json()
    for row in data["results"]:
        for milestone in row["milestones"]:
            assert (milestone["evidence_url"] != "") == (milestone["state"] == "verified")
    assert json.dumps(data)  # serialisable as is


@pytest.mark.parametrize("path", ["/zh-hans/transparency/", "/zh-hans/transparency/grants/"])
def test_chinese_pages_have_no_english_left(client, scenario, path):
    page = client.get(path).content.decode()
    main = page.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    text = re.sub(r"<[^>]+>", " ", main)
    text = re.sub(r"https?://\S+", " ", text)
    # Two English words in a row (format names such as "CSV, JSON" are all capitals).
    leftover = re.findall(r"\b[A-Z]?[a-z]{2,}\b[ ,;:'’]+\b[A-Z]?[a-z]{2,}\b", text)
    assert leftover == []
    # Single-word labels too: the grant statuses of the scenario (offered, active).
    assert not re.search(r"\b(Offered|Active|Pending|Verified)\b", text)


def test_a_draw_that_favoured_early_applicants_is_flagged(client, db):
    """Like DV-2012: every winner applied on the first day although entrants spread over three."""
    import datetime as dt

    from django.utils import timezone

    from tests.factories import ApplicationFactory, RoundFactory

    from .factories import draw_made

    opened = timezone.now() - dt.timedelta(days=20)
    round_ = RoundFactory(code="biased-1", opens_at=opened, closes_at=opened + dt.timedelta(days=3))
    entrants = []
    for day in range(3):
        for _ in range(30):
            application = ApplicationFactory(
                round=round_, submitted_at=opened + dt.timedelta(days=day, hours=1)
            )
            entrants.append(
                (application, "", "winner" if day == 0 and len(entrants) < 15 else "waitlist")
            )
    draw_made(round_, entrants)
    page = client.get("/en/transparency/?scope=round:biased-1").content.decode()
    assert "Look into this" in page
    assert "more than chance explains" in page
    test = client.get("/en/transparency/figures.json?scope=round:biased-1").json()["tables"][
        "fairness_tests"
    ]
    assert test[0]["p_value"] < 0.01


def test_a_draw_whose_entrants_per_day_are_still_being_counted_says_so(client, db):
    import datetime as dt

    from django.utils import timezone

    from tests.factories import ApplicationFactory, RoundFactory

    from .factories import draw_made

    opened = timezone.now() - dt.timedelta(days=20)
    round_ = RoundFactory(
        code="counting-1", opens_at=opened, closes_at=opened + dt.timedelta(days=3)
    )
    entrants = [
        (ApplicationFactory(round=round_, submitted_at=opened + dt.timedelta(days=i % 3)), "", o)
        for i, o in enumerate(["winner"] * 10 + ["waitlist"] * 50)
    ]
    draw_made(round_, entrants, days_counted=False)
    page = client.get("/en/transparency/?scope=round:counting-1").content.decode()
    assert "still being counted" in page
    assert "No sign of bias" not in page and "Look into this" not in page
    assert (
        "正在统计" in client.get("/zh-hans/transparency/?scope=round:counting-1").content.decode()
    )
    tables = client.get("/en/transparency/figures.json?scope=round:counting-1").json()["tables"]
    assert tables["fairness_tests"][0]["days_counted"] is False
    assert tables["fairness_tests"][0]["p_value"] is None
    assert tables["fairness_days"] == []
    assert sum(row["entrants"] for row in tables["fairness_strata"]) == 60  # strata still shown


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_pages_work_before_anything_happened(client, db, language):
    dashboard = client.get(f"/{language}/transparency/")
    assert dashboard.status_code == 200
    assert client.get(f"/{language}/transparency/grants/").status_code == 200
    assert client.get(f"/{language}/transparency/figures/by_city.csv").status_code == 200
    assert client.get("/api/transparency/figures/").json()["tables"]["funnel"][0]["count"] == 0


def test_register_csv_does_not_let_a_company_name_run_as_a_spreadsheet_formula(client, scenario):
    a1 = scenario["apps"][0]
    a1.company_legal_name = '=HYPERLINK("http://evil.example","click")'
    a1.save()
    rows = list(
        csv.DictReader(
            io.StringIO(client.get("/en/transparency/grants.csv").content.decode("utf-8-sig"))
        )
    )
    names = {row["company"] for row in rows}
    assert "'" + a1.company_legal_name in names
    # The JSON keeps the name exactly as registered.
    results = client.get("/en/transparency/grants.json").json()["results"]
    assert a1.company_legal_name in {row["company"] for row in results}
