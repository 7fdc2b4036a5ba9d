"""Public pages: the dashboard, the grant register, and their CSV / JSON downloads.

Thin views: figures come cached from ``selectors.figures_cached``, tables from
``presentation.table``, register rows from ``register``; charts are drawn by ``charts``.
"""

from __future__ import annotations

import csv
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.dateparse import parse_datetime
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from applications.cities import CITIES
from applications.models import Round
from centers.models import Center
from grants.models import Grant

from . import charts, presentation
from .presentation import COLUMNS, TABLES, table
from .register import (
    COLUMNS as REGISTER_COLUMNS,
)
from .register import (
    consent_label,
    csv_row,
    public_row,
    register_all,
    register_filters,
    register_page,
)
from .selectors import ALL, DIMENSIONS, GPU_HOURS, figures_cached

# Charts that sit beside a narrow table are drawn this wide, so they are shown at full size.
SIDE_BY_SIDE_WIDTH = 460
# Beyond this many days the submission-day chart groups days into weeks (the table keeps days).
DAYS_BEFORE_WEEKS = 21


def _scope(request: HttpRequest, figures: dict[str, Any]) -> str:
    scope = request.GET.get("scope") or ALL
    return scope if scope in figures["scopes"] else ALL


def _svg(markup: str):
    return mark_safe(markup)  # noqa: S308 - charts.py escapes every text it writes


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    figures = figures_cached()
    scope = _scope(request, figures)
    return render(
        request,
        "transparency/dashboard.html",
        {
            "scope": scope,
            "scope_choices": presentation.scope_choices(figures),
            "scope_query": urlencode({"scope": scope}),
            "generated_at": parse_datetime(figures["generated_at"]),
            "sections": _sections(figures, scope),
            "tables": TABLES,
        },
    )


def _sections(figures: dict[str, Any], scope: str) -> dict[str, Any]:
    funnel = table(figures, scope, "funnel")
    compute = table(figures, scope, "compute")
    gpu = next(row for row in compute if row["unit"] == GPU_HOURS)
    compute_labels = presentation.compute_labels()
    sections: dict[str, Any] = {
        "overview": table(figures, scope, "programs_and_rounds"),
        "funnel": {
            "rows": funnel,
            "chart": _svg(
                charts.bar_chart(
                    chart_id="chart-funnel",
                    width=SIDE_BY_SIDE_WIDTH,
                    title=_("From application to grant"),
                    description=_(
                        "Bar chart: applications received, found eligible, drawn, and grants "
                        "offered and accepted. The same numbers are in the table beside it."
                    ),
                    labels=[row["label"] for row in funnel],
                    series=[charts.Series(_("Number"), [row["count"] for row in funnel])],
                )
            ),
        },
        "compute": {
            "rows": [{**row, "label": presentation.unit_label(row["unit"])} for row in compute],
            "chart": _svg(
                charts.bar_chart(
                    chart_id="chart-compute",
                    title=_("Compute in GPU-hours: offered, allocated, released, used, returned"),
                    description=_(
                        "Bar chart of GPU-hours offered in the rounds, allocated to grants, "
                        "released to founders, used at the centers, and returned to the pool."
                    ),
                    labels=list(compute_labels.values()),
                    series=[charts.Series(_("GPU-hours"), [gpu[key] for key in compute_labels])],
                )
            ),
        },
        "dimensions": [],
    }
    titles = presentation.dimension_titles()
    for name in DIMENSIONS:
        rows = table(figures, scope, f"by_{name}")
        if name == "center":
            series = [
                charts.Series(_("Allocated GPU-hours"), [row["allocated"] for row in rows]),
                charts.Series(_("Released GPU-hours"), [row["released"] for row in rows]),
                charts.Series(_("Used GPU-hours"), [row["used"] for row in rows]),
            ]
            description = _(
                "Grouped bar chart: GPU-hours allocated, released and used at each center."
            )
            percent = False
        else:
            received = sum(row["received"] for row in rows)
            allocated = sum(row["allocated"] for row in rows)
            series = [
                charts.Series(
                    _("Share of applications"),
                    [row["received"] / received if received else 0 for row in rows],
                ),
                charts.Series(
                    _("Share of allocated GPU-hours"),
                    [row["allocated"] / allocated if allocated else 0 for row in rows],
                ),
            ]
            description = _(
                "Grouped bar chart: for each group, its share of all applications against "
                "its share of the GPU-hours allocated. Equal bars mean compute follows demand."
            )
            percent = True
        sections["dimensions"].append(
            {
                "name": name,
                "title": titles[name],
                "rows": rows,
                "chart": _svg(
                    charts.bar_chart(
                        chart_id=f"chart-by-{name}",
                        title=titles[name],
                        description=description,
                        labels=[row["label"] for row in rows],
                        series=series,
                        percent=percent,
                    )
                )
                if rows
                else "",
            }
        )
    milestones = table(figures, scope, "milestones")
    outcomes = table(figures, scope, "outcomes")
    sections["milestones"] = {
        "rows": milestones,
        "chart": _svg(
            charts.bar_chart(
                chart_id="chart-milestones",
                width=SIDE_BY_SIDE_WIDTH,
                title=_("Milestones: due, met, overdue, forfeited"),
                description=_(
                    "Bar chart of the milestones founders committed to, how many are due, "
                    "met with verified public evidence, overdue, forfeited or waived."
                ),
                labels=[row["label"] for row in milestones],
                series=[charts.Series(_("Milestones"), [row["count"] for row in milestones])],
            )
        ),
    }
    sections["outcomes"] = {
        "rows": outcomes,
        "per_outcome": presentation.per_verified_outcome(figures, scope),
        "latest": table(figures, scope, "latest_outcomes"),
        "chart": _svg(
            charts.bar_chart(
                chart_id="chart-outcomes",
                width=SIDE_BY_SIDE_WIDTH,
                title=_("What the compute produced"),
                description=_(
                    "Bar chart of verified outcomes: open-source releases, papers and "
                    "products launched, each with public evidence."
                ),
                labels=[row["label"] for row in outcomes],
                series=[charts.Series(_("Verified outcomes"), [row["count"] for row in outcomes])],
            )
        ),
    }
    rounds = set(presentation.scope_round_codes(figures, scope))
    draws = []
    for draw in figures["fairness"]:
        if draw["round"] not in rounds:
            continue
        title = presentation.round_title(figures, draw["round"])
        strata = [
            {**row, "label": presentation.stratum_label(draw["round"], row["stratum"], figures)}
            for row in draw["strata"]
        ]
        days = draw["submission_days"]
        day_labels, day_entrants, day_winners = _days_or_weeks(days)
        draws.append(
            {
                "round": draw["round"],
                "draw_id": draw["draw_id"],
                "title": title,
                "entrants": draw["entrants"],
                "winners": draw["winners"],
                "strata": strata,
                "days": days,
                "days_counted": draw["submission_days_counted"],
                "day_test": draw["submission_day_test"],
                "strata_chart": _svg(
                    charts.bar_chart(
                        chart_id=f"chart-strata-{draw['round']}",
                        title=_("%(round)s: winners and entrants per stratum") % {"round": title},
                        description=_(
                            "Grouped bar chart: each stratum's share of the entrants against "
                            "its share of the winners."
                        ),
                        labels=[row["label"] for row in strata],
                        series=[
                            charts.Series(
                                _("Share of entrants"), [r["entrant_share"] for r in strata]
                            ),
                            charts.Series(
                                _("Share of winners"), [r["winner_share"] for r in strata]
                            ),
                        ],
                        percent=True,
                    )
                ),
                "days_chart": _svg(
                    charts.bar_chart(
                        chart_id=f"chart-days-{draw['round']}",
                        title=_("%(round)s: day of submission, winners against entrants")
                        % {"round": title},
                        description=_(
                            "Grouped bar chart: for each day of the round, the share of "
                            "entrants who applied that day against the share of winners. A fair "
                            "draw shows no advantage for early or late applicants."
                        ),
                        labels=day_labels,
                        series=[
                            charts.Series(_("Share of entrants"), day_entrants),
                            charts.Series(_("Share of winners"), day_winners),
                        ],
                        percent=True,
                    )
                ),
            }
        )
    sections["fairness"] = draws
    series_list = []
    for series in figures["applications_per_day"]:
        if series["round"] not in rounds:
            continue
        title = presentation.round_title(figures, series["round"])
        points = series["points"]
        series_list.append(
            {
                "round": series["round"],
                "title": title,
                "points": points,
                "total": sum(p["applications"] for p in points),
                "chart": _svg(
                    charts.column_chart(
                        chart_id=f"chart-daily-{series['round']}",
                        title=_("%(round)s: applications per day") % {"round": title},
                        description=_(
                            "Column chart of applications submitted each day since the round "
                            "opened; %(total)s in all."
                        )
                        % {"total": sum(p["applications"] for p in points)},
                        labels=[p["day"] for p in points],
                        values=[p["applications"] for p in points],
                        width=SIDE_BY_SIDE_WIDTH,
                    )
                ),
            }
        )
    sections["daily"] = series_list
    return sections


def _days_or_weeks(days: list[dict[str, Any]]) -> tuple[list[str], list[float], list[float]]:
    """Chart rows for the submission-day comparison: one per day, or per week of the round
    when the round ran longer than DAYS_BEFORE_WEEKS days."""
    if not days or days[-1]["day_of_round"] <= DAYS_BEFORE_WEEKS:
        return (
            [_("Day %(day)s") % {"day": r["day_of_round"]} for r in days],
            [r["entrant_share"] for r in days],
            [r["winner_share"] for r in days],
        )
    weeks: dict[int, list[float]] = {}
    for row in days:
        week = (row["day_of_round"] - 1) // 7 + 1
        shares = weeks.setdefault(week, [0.0, 0.0])
        shares[0] += row["entrant_share"]
        shares[1] += row["winner_share"]
    ordered = sorted(weeks.items())
    return (
        [_("Week %(week)s") % {"week": week} for week, _shares in ordered],
        [round(shares[0], 4) for _week, shares in ordered],
        [round(shares[1], 4) for _week, shares in ordered],
    )


# --- downloads ------------------------------------------------------------------------------


def _json_download(data: dict[str, Any], filename: str) -> JsonResponse:
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _csv_download(header: list[str], rows: list[list[Any]], filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # A byte-order mark so spreadsheet programs read the Chinese names as UTF-8.
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows([_cell(value) for value in row] for row in rows)
    return response


def _cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula (a company named "=HYPERLINK(…)") is written
    with a leading apostrophe, as OWASP advises for CSV downloads; numbers stay numbers."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@require_GET
def figures_json(request: HttpRequest) -> JsonResponse:
    """Every table of one scope (or, with no scope, of all programs) as one JSON document."""
    figures = figures_cached()
    scope = _scope(request, figures)
    return _json_download(
        {
            "generated_at": figures["generated_at"],
            "scope": scope,
            "tables": {name: table(figures, scope, name) for name in TABLES},
        },
        f"suanli-figures-{scope.replace(':', '-')}.json",
    )


@require_GET
def figures_csv(request: HttpRequest, name: str) -> HttpResponse:
    if name not in TABLES:
        raise Http404
    figures = figures_cached()
    scope = _scope(request, figures)
    columns = list(COLUMNS[name])
    rows = [
        [scope, *(_csv_value(row.get(column)) for column in columns), figures["generated_at"]]
        for row in table(figures, scope, name)
    ]
    return _csv_download(
        ["scope", *columns, "generated_at"], rows, f"suanli-{name}-{scope.replace(':', '-')}.csv"
    )


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    return value


# --- the grant register ---------------------------------------------------------------------


@require_GET
def register(request: HttpRequest) -> HttpResponse:
    filters = register_filters(request.GET)
    page = register_page(filters=filters, page_number=request.GET.get("page"))
    query = urlencode(filters)
    page_query = urlencode({**filters, "page": page.page.number})
    return render(
        request,
        "transparency/register.html",
        {
            "page": page,
            "rows": page.rows,
            "filters": filters,
            "query": query,
            "page_query": page_query,
            "consent_label": consent_label(),
            "generated_at_local": parse_datetime(page.generated_at),
            "round_options": [
                (r.code, r.title) for r in Round.objects.select_related("program").all()
            ],
            "center_options": [(c.code, c.name) for c in Center.objects.all()],
            "city_options": [
                (code, en if request.LANGUAGE_CODE == "en" else zh) for code, zh, en in CITIES
            ],
            "status_options": list(Grant.Status.choices),
        },
    )


def _register_rows(request: HttpRequest) -> tuple[dict[str, str], list[dict[str, Any]], str]:
    """What the page shows: with ``page``, that page's rows; without it, every page."""
    from django.utils import timezone

    filters = register_filters(request.GET)
    if request.GET.get("page"):
        page = register_page(filters=filters, page_number=request.GET.get("page"))
        return filters, page.rows, page.generated_at
    rows = register_all(filters=filters)
    return filters, rows, timezone.now().isoformat(timespec="seconds")


@require_GET
def register_json(request: HttpRequest) -> JsonResponse:
    filters, rows, generated_at = _register_rows(request)
    return _json_download(
        {
            "generated_at": generated_at,
            "filters": filters,
            "page": request.GET.get("page") or None,
            "count": len(rows),
            "columns": list(REGISTER_COLUMNS),
            "results": [public_row(row) for row in rows],
        },
        "suanli-grant-register.json",
    )


@require_GET
def register_csv(request: HttpRequest) -> HttpResponse:
    _filters, rows, generated_at = _register_rows(request)
    return _csv_download(
        [*REGISTER_COLUMNS, "generated_at"],
        [csv_row(row, generated_at) for row in rows],
        "suanli-grant-register.csv",
    )
