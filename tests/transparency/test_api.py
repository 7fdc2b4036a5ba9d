"""The public API serves the same figures and register rows as the pages, and is documented."""

import yaml


def test_figures_api_serves_the_dashboard_tables(client, scenario):
    response = client.get("/api/transparency/figures/?scope=round:wuhan-2026-1&lang=en")
    assert response.status_code == 200
    data = response.json()
    assert data["scope"] == "round:wuhan-2026-1"
    assert "all" in data["scopes"]
    assert data["generated_at"]
    funnel = {row["stage"]: row["count"] for row in data["tables"]["funnel"]}
    assert funnel == {"received": 4, "eligible": 3, "drawn": 2, "granted": 2, "accepted": 1}
    cities = {row["key"]: row["label"] for row in data["tables"]["by_city"]}
    assert cities["qingyang"] == "Qingyang"
    chinese = client.get("/api/transparency/figures/?lang=zh-hans").json()
    assert {r["key"]: r["label"] for r in chinese["tables"]["by_city"]}["qingyang"] == "庆阳"
    page = client.get("/en/transparency/figures.json?scope=round:wuhan-2026-1").json()
    assert page["tables"] == data["tables"]


def test_figures_api_refuses_an_unknown_scope(client, scenario):
    response = client.get("/api/transparency/figures/?scope=round:nope")
    assert response.status_code == 404
    assert "all" in response.json()["scopes"]


def test_grant_register_api_filters_pages_and_hides_unconsented_names(client, scenario):
    _g1, g2 = scenario["grants"]
    data = client.get("/api/transparency/grants/?limit=1").json()
    assert data["count"] == 2
    assert len(data["results"]) == 1
    assert data["generated_at"]
    qingyang = client.get("/api/transparency/grants/?city=qingyang").json()["results"]
    assert [row["grant"] for row in qingyang] == [f"G-{g2.pk}"]
    assert qingyang[0]["company"] is None
    register = client.get("/en/transparency/grants.json?city=qingyang").json()["results"]
    assert register == qingyang


def test_transparency_endpoints_are_in_the_openapi_schema(client, db):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    assert "/api/transparency/figures/" in schema["paths"]
    grants = schema["paths"]["/api/transparency/grants/"]["get"]
    assert {p["name"] for p in grants["parameters"]} >= {"round", "center", "city", "status"}
    row = schema["components"]["schemas"]["RegisterRow"]["properties"]
    assert {"company", "name_published", "released", "used", "milestones"} <= set(row)
