"""The public figures count what happened: applications, draws, grants, compute, outcomes."""

import pytest

from transparency.presentation import table
from transparency.selectors import figures_compute


def _by(rows, key):
    return {row["key"]: row for row in rows}[key]


def test_funnel_and_compute_count_applications_grants_and_gpu_hours(scenario):
    g1, g2 = scenario["grants"]
    figures = figures_compute()
    for scope in ("all", "program:wuhan", "round:wuhan-2026-1"):
        data = figures["scopes"][scope]
        assert data["funnel"] == {
            "received": 4,
            "eligible": 3,
            "drawn": 2,
            "granted": 2,
            "accepted": 1,
        }
        gpu = data["compute"]["gpu_hours"]
        assert gpu["offered"] == 50_000
        assert gpu["allocated"] == 3000
        assert gpu["released"] == float(g1.released + g2.released)
        assert gpu["released"] > 0
        assert gpu["used"] == 200
        assert gpu["returned"] == 0


def test_breakdowns_by_city_size_age_revenue_and_center(scenario):
    g1, _g2 = scenario["grants"]
    data = figures_compute()["scopes"]["all"]["by"]
    wuhan = _by(data["city"], "wuhan")
    assert (wuhan["received"], wuhan["eligible"], wuhan["drawn"]) == (3, 2, 1)
    assert (wuhan["granted"], wuhan["accepted"], wuhan["allocated"]) == (1, 1, 1000)
    assert wuhan["used"] == 200
    qingyang = _by(data["city"], "qingyang")
    assert (qingyang["received"], qingyang["granted"], qingyang["allocated"]) == (1, 1, 2000)
    assert [row["key"] for row in data["size_band"]] == ["1-9", "10-19", "20-49"]
    assert [row["received"] for row in data["size_band"]] == [1, 2, 1]
    assert _by(data["age_band"], "0-1")["received"] == 1
    # A2 (800 days), A3 and A4 (730 days).
    assert _by(data["age_band"], "1-3")["received"] == 3
    assert _by(data["revenue_band"], "under_1m")["allocated"] == 2000
    center = _by(data["center"], "wuhan-ai")
    assert center["allocated"] == 3000
    assert center["offered"] == 1_000_000
    assert center["released"] == float(g1.released)


def test_outcomes_link_to_their_evidence_and_hide_unconsented_names(scenario):
    g1, g2 = scenario["grants"]
    data = figures_compute()["scopes"]["round:wuhan-2026-1"]
    assert data["milestones"]["met"] == 1
    assert data["milestones"]["total"] == g1.milestones.count() + g2.milestones.count()
    assert data["outcomes"]["open_source"] == 1
    assert data["outcomes"]["paper"] == 0
    assert data["outcomes"]["verified"] == 1
    assert data["outcomes"]["gpu_hours_per_verified_outcome"] == float(g1.released + g2.released)
    [latest] = data["latest_outcomes"]
    assert latest["company"] == "江城智算科技有限公司"
    assert latest["evidence_url"] == f"https://github.com/example/{g1.pk}-open_weights"


def test_fairness_compares_winners_with_entrants_per_stratum_and_day(scenario):
    [draw] = figures_compute()["fairness"]
    assert draw["round"] == "wuhan-2026-1"
    assert (draw["entrants"], draw["winners"]) == (3, 2)
    [stratum] = draw["strata"]
    assert stratum["entrant_share"] == 1.0
    assert stratum["winner_share"] == 1.0
    [day] = draw["submission_days"]
    assert (day["entrants"], day["winners"], day["day_of_round"]) == (3, 2, 2)
    # Two winners are too few for the chi-square test: it says so rather than guessing.
    assert draw["submission_day_test"]["p_value"] is None


def test_applications_per_day_for_open_rounds(scenario):
    [series] = figures_compute()["applications_per_day"]
    assert series["round"] == "wuhan-2026-1"
    assert [p["applications"] for p in series["points"]] == [0, 4]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_tables_have_stable_columns_and_labels_in_the_readers_language(scenario, language):
    from django.utils import translation

    from transparency.presentation import COLUMNS, TABLES

    figures = figures_compute()
    with translation.override(language):
        for name in TABLES:
            for row in table(figures, "all", name):
                assert set(COLUMNS[name]) <= set(row), name
        cities = {row["key"]: row["label"] for row in table(figures, "all", "by_city")}
    assert cities["wuhan"] == ("Wuhan" if language == "en" else "武汉")


def test_programs_and_rounds_overview_lists_each_scope_with_its_figures(scenario):
    from django.utils import translation

    figures = figures_compute()
    with translation.override("en"):
        rows = table(figures, "all", "programs_and_rounds")
        inside_round = table(figures, "round:wuhan-2026-1", "programs_and_rounds")
    keys = [row["key"] for row in rows]
    assert keys == ["all", "program:wuhan", "round:wuhan-2026-1"]
    assert rows[0]["label"] == "All programs and rounds"
    assert rows[2]["received"] == 4
    assert rows[2]["allocated"] == 3000
    assert [row["key"] for row in inside_round] == ["round:wuhan-2026-1"]
