"""Turn the cached, language-neutral figures into named tables in the reader's language.

A table is a list of rows (dicts) under stable column names: the same rows feed the page's
tables and charts, the CSV and JSON downloads and the API, so they can never disagree.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from applications.cities import CITY_NAMES_EN, CITY_NAMES_ZH
from applications.models import Application

from .selectors import ALL, DIMENSIONS, GPU_HOURS, UNITS

SCOPE_TABLES = (
    "programs_and_rounds",
    "funnel",
    "compute",
    *(f"by_{name}" for name in DIMENSIONS),
    "milestones",
    "outcomes",
    "latest_outcomes",
)
DRAW_TABLES = ("fairness_strata", "fairness_days", "fairness_tests", "applications_per_day")
TABLES = (*SCOPE_TABLES, *DRAW_TABLES)

COLUMNS: dict[str, tuple[str, ...]] = {
    "programs_and_rounds": (
        "key",
        "label",
        "received",
        "eligible",
        "drawn",
        "granted",
        "accepted",
        "offered",
        "allocated",
        "released",
        "used",
        "returned",
    ),
    "funnel": ("stage", "label", "count"),
    "compute": ("unit", "offered", "allocated", "released", "used", "returned"),
    **{
        f"by_{name}": (
            "key",
            "label",
            "received",
            "eligible",
            "drawn",
            "granted",
            "accepted",
            "allocated",
            "released",
            "used",
            "returned",
            *(("offered",) if name == "center" else ()),
        )
        for name in DIMENSIONS
    },
    "milestones": ("figure", "label", "count"),
    "outcomes": ("category", "label", "count"),
    "latest_outcomes": ("grant", "kind", "label", "company", "evidence_url", "verified_on"),
    "fairness_strata": (
        "round",
        "stratum",
        "label",
        "entrants",
        "winners",
        "entrant_share",
        "winner_share",
    ),
    "fairness_days": (
        "round",
        "day",
        "day_of_round",
        "entrants",
        "winners",
        "entrant_share",
        "winner_share",
    ),
    "fairness_tests": (
        "round",
        "draw_id",
        "days_counted",
        "statistic",
        "degrees_of_freedom",
        "p_value",
    ),
    "applications_per_day": ("round", "day", "applications"),
}


def english() -> bool:
    return (get_language() or "").startswith("en")


def pick(item: dict[str, Any], field: str) -> str:
    return item[f"{field}_en"] if english() else item[f"{field}_zh"]


def funnel_labels() -> dict[str, str]:
    return {
        "received": _("Applications received"),
        "eligible": _("Eligible"),
        "drawn": _("Drawn in the lottery"),
        "granted": _("Grants offered"),
        "accepted": _("Grants accepted"),
    }


def compute_labels() -> dict[str, str]:
    return {
        "offered": _("On offer"),
        "allocated": _("Allocated"),
        "released": _("Released"),
        "used": _("Used"),
        "returned": _("Returned"),
    }


def unit_label(unit: str) -> str:
    # With a context: a bare "tokens" is translated differently elsewhere (or not at all).
    return pgettext("compute unit", "tokens") if unit == "tokens" else _("GPU-hours")


def milestone_labels() -> dict[str, str]:
    return {
        "total": _("Milestones set"),
        "due": _("Due by today"),
        "met": _("Met (evidence verified)"),
        "overdue": _("Overdue"),
        "forfeited": _("Forfeited"),
        "waived": _("Waived by staff"),
    }


def outcome_labels() -> dict[str, str]:
    return {
        "open_source": _("Open-source releases"),
        "paper": _("Papers"),
        "product": _("Products launched"),
    }


def kind_labels() -> dict[str, str]:
    return {
        "open_weights": _("Open-source model weights"),
        "open_code": _("Open-source code"),
        "paper": _("Paper or technical report"),
        "product_launch": _("Product launch"),
    }


def dimension_titles() -> dict[str, str]:
    return {
        "city": _("By city of registration"),
        "center": _("By computing center"),
        "size_band": _("By company size (employees)"),
        "age_band": _("By company age"),
        "revenue_band": _("By annual revenue"),
    }


def category_label(dimension: str, key: Any, figures: dict[str, Any]) -> str:
    if key in (None, ""):
        return _("Not recorded")
    if dimension == "city":
        names = CITY_NAMES_EN if english() else CITY_NAMES_ZH
        return names.get(key, key)
    if dimension == "center":
        for center in figures.get("centers", []):
            if center["code"] == key:
                return pick(center, "name")
        return key
    if dimension == "size_band":
        return {
            "1-9": _("1–9 employees"),
            "10-19": _("10–19 employees"),
            "20-49": _("20–49 employees"),
            "50+": _("50 or more employees"),
        }.get(key, key)
    if dimension == "age_band":
        return {
            "0-1": _("Under 1 year"),
            "1-3": _("1–3 years"),
            "3-5": _("3–5 years"),
            "5-10": _("5–10 years"),
            "10+": _("10 years or more"),
        }.get(key, key)
    if dimension == "revenue_band":
        return str(dict(Application.RevenueBand.choices).get(key, key))
    return str(key)


def stratum_label(round_code: str, code: str, figures: dict[str, Any]) -> str:
    if not code:
        return _("Open seats (no stratum)")
    for stratum in figures.get("strata", []):
        if stratum["round_code"] == round_code and stratum["code"] == code:
            return pick(stratum, "name")
    return code


def scope_choices(figures: dict[str, Any]) -> list[tuple[str, str]]:
    """Every scope a reader can pick: all programs, each program, each round."""
    choices = [(ALL, _("All programs and rounds"))]
    for program in figures["programs"]:
        if program["key"] in figures["scopes"]:
            choices.append((program["key"], pick(program, "name")))
        for round_ in figures["rounds"]:
            if round_["program"] == program["code"] and round_["key"] in figures["scopes"]:
                choices.append((round_["key"], "— " + pick(round_, "title")))
    return choices


def scope_round_codes(figures: dict[str, Any], scope: str) -> list[str]:
    if scope == ALL:
        return [r["code"] for r in figures["rounds"]]
    kind, _sep, code = scope.partition(":")
    if kind == "program":
        return [r["code"] for r in figures["rounds"] if r["program"] == code]
    return [code]


def round_title(figures: dict[str, Any], code: str) -> str:
    for round_ in figures["rounds"]:
        if round_["code"] == code:
            return pick(round_, "title")
    return code


def table(figures: dict[str, Any], scope: str, name: str) -> list[dict[str, Any]]:
    """One named table for one scope, as rows under the stable columns of ``COLUMNS``."""
    data = figures["scopes"].get(scope) or figures["scopes"][ALL]
    rounds = set(scope_round_codes(figures, scope))
    if name == "programs_and_rounds":
        # The chosen scope first, then each program and round inside it.
        inside = [scope] + [
            key
            for key, _label in scope_choices(figures)
            if key != scope
            and key != ALL
            and (scope == ALL or (key.startswith("round:") and key.partition(":")[2] in rounds))
        ]
        labels = dict(scope_choices(figures))
        return [
            {
                "key": key,
                "label": labels.get(key, key).lstrip("— "),
                **figures["scopes"][key]["funnel"],
                **figures["scopes"][key]["compute"][GPU_HOURS],
            }
            for key in inside
            if key in figures["scopes"]
        ]
    if name == "funnel":
        labels = funnel_labels()
        return [
            {"stage": key, "label": labels[key], "count": data["funnel"][key]} for key in labels
        ]
    if name == "compute":
        return [{"unit": unit, **data["compute"][unit]} for unit in UNITS]
    if name.startswith("by_"):
        dimension = name[3:]
        return [
            {
                **dict.fromkeys(COLUMNS[name], 0),
                **row,
                "label": category_label(dimension, row["key"], figures),
            }
            for row in data["by"][dimension]
        ]
    if name == "milestones":
        labels = milestone_labels()
        return [
            {"figure": key, "label": labels[key], "count": data["milestones"][key]}
            for key in labels
        ]
    if name == "outcomes":
        labels = outcome_labels()
        return [
            {"category": key, "label": labels[key], "count": data["outcomes"][key]}
            for key in labels
        ]
    if name == "latest_outcomes":
        kinds = kind_labels()
        return [
            {**row, "label": kinds.get(row["kind"], row["kind"])} for row in data["latest_outcomes"]
        ]
    if name == "fairness_strata":
        return [
            {
                "round": draw["round"],
                **row,
                "label": stratum_label(draw["round"], row["stratum"], figures),
            }
            for draw in figures["fairness"]
            if draw["round"] in rounds
            for row in draw["strata"]
        ]
    if name == "fairness_days":
        return [
            {"round": draw["round"], **row}
            for draw in figures["fairness"]
            if draw["round"] in rounds
            for row in draw["submission_days"]
        ]
    if name == "fairness_tests":
        return [
            {
                "round": draw["round"],
                "draw_id": draw["draw_id"],
                "days_counted": draw["submission_days_counted"],
                **draw["submission_day_test"],
            }
            for draw in figures["fairness"]
            if draw["round"] in rounds
        ]
    if name == "applications_per_day":
        return [
            {"round": series["round"], **point}
            for series in figures["applications_per_day"]
            if series["round"] in rounds
            for point in series["points"]
        ]
    raise KeyError(name)


def per_verified_outcome(figures: dict[str, Any], scope: str) -> float | None:
    data = figures["scopes"].get(scope) or figures["scopes"][ALL]
    return data["outcomes"]["gpu_hours_per_verified_outcome"]


__all__ = ["COLUMNS", "GPU_HOURS", "TABLES", "table"]
