"""The SVG charts name themselves for screen readers, show every value as text, and escape."""

import re
import xml.etree.ElementTree as ET

from transparency.charts import Series, bar_chart, column_chart

SVG = "{http://www.w3.org/2000/svg}"


def test_bar_chart_is_a_named_image_with_every_value_written():
    markup = bar_chart(
        chart_id="c1",
        title="Applications <by> city",
        description="Share of applications & of compute",
        labels=["武汉", "Qingyang"],
        series=[Series("Applications", [0.25, 0.75]), Series("Compute", [0.5, 0.5])],
        percent=True,
    )
    svg = ET.fromstring(markup)  # noqa: S314 - our own output; well-formed means escaped
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "c1-title c1-desc"
    assert svg.find(f"{SVG}title").text == "Applications <by> city"
    assert svg.find(f"{SVG}desc").text == "Share of applications & of compute"
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert {"25.0%", "75.0%", "50.0%", "武汉", "Qingyang", "Applications", "Compute"} <= set(texts)
    widths = [float(r.get("width")) for r in svg.iter(f"{SVG}rect") if r.get("height") == "18"]
    assert max(widths) == widths[2]  # the longest bar is the largest value (75%)


def test_column_chart_draws_one_column_per_day_with_its_value():
    markup = column_chart(
        chart_id="c2",
        title="Applications per day",
        description="Three days",
        labels=["2026-12-01", "2026-12-02", "2026-12-03"],
        values=[3, 0, 6],
    )
    svg = ET.fromstring(markup)  # noqa: S314 - our own output
    columns = list(svg.iter(f"{SVG}rect"))
    assert len(columns) == 3
    assert [c.find(f"{SVG}title").text for c in columns] == [
        "2026-12-01: 3",
        "2026-12-02: 0",
        "2026-12-03: 6",
    ]
    assert re.search(r">6</text>", markup)
