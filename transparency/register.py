"""The public grant register: one row per grant, the same rows for the page, CSV, JSON and API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.cities import CITIES
from applications.models import Round, size_band_for
from centers.models import Center
from grants.models import Grant

from .presentation import unit_label
from .selectors import register_compute, register_grants, register_milestones

COLUMNS = (
    "grant",
    "round",
    "program",
    "company",
    "name_published",
    "size_band",
    "city",
    "center",
    "unit",
    "amount",
    "released",
    "used",
    "status",
    "offered_on",
    "milestones",
)
MILESTONE_COLUMNS = ("kind", "state", "target_date", "evidence_url")
FILTERS = ("round", "center", "city", "status")


@dataclass(frozen=True)
class RegisterPage:
    rows: list[dict[str, Any]]
    page: Page
    filters: dict[str, str]
    generated_at: str


def register_filters(params) -> dict[str, str]:
    """The filters a reader asked for, each kept only if it names something that exists
    (an unknown value filters nothing rather than failing)."""
    wanted = {name: (params.get(name) or "").strip() for name in FILTERS}
    valid = {
        "round": set(Round.objects.values_list("code", flat=True)) if wanted["round"] else set(),
        "center": set(Center.objects.values_list("code", flat=True)) if wanted["center"] else set(),
        "city": {code for code, _zh, _en in CITIES},
        "status": set(Grant.Status.values),
    }
    return {name: value for name, value in wanted.items() if value and value in valid[name]}


def register_page(*, filters: dict[str, str], page_number: Any, per_page: int | None = None):
    grants = register_grants(
        round_code=filters.get("round", ""),
        center_code=filters.get("center", ""),
        city=filters.get("city", ""),
        status=filters.get("status", ""),
    )
    paginator = Paginator(grants, per_page or settings.TRANSPARENCY_REGISTER_PAGE_SIZE)
    page = paginator.get_page(page_number)
    return RegisterPage(
        rows=register_rows(list(page.object_list)),
        page=page,
        filters=filters,
        generated_at=timezone.now().isoformat(timespec="seconds"),
    )


def register_all(*, filters: dict[str, str]) -> list[dict[str, Any]]:
    """Every row matching the filters (the "all pages" download), fetched in chunks of
    a page so milestones stay one query per chunk."""
    grants = list(
        register_grants(
            round_code=filters.get("round", ""),
            center_code=filters.get("center", ""),
            city=filters.get("city", ""),
            status=filters.get("status", ""),
        )
    )
    rows: list[dict[str, Any]] = []
    step = 1000
    for start in range(0, len(grants), step):
        rows.extend(register_rows(grants[start : start + step]))
    return rows


def register_rows(grants: list[Grant]) -> list[dict[str, Any]]:
    grant_ids = [grant.pk for grant in grants]
    milestones = register_milestones(grant_ids=grant_ids)
    compute = register_compute(grant_ids=grant_ids)
    rows = []
    for grant in grants:
        application = grant.application
        released, used = compute[grant.pk]
        rows.append(
            {
                "grant": f"G-{grant.pk}",
                "round": application.round.code,
                "program": application.round.program.code,
                # The name only with the company's consent; otherwise its size band alone.
                "company": application.company_legal_name
                if application.consent_publish_name
                else None,
                "name_published": application.consent_publish_name,
                "size_band": size_band_for(application.employees),
                "city": application.registration_city,
                "center": grant.center.code,
                "unit": grant.unit,
                "amount": float(grant.amount),
                "released": float(released),
                "used": float(used),
                "status": grant.status,
                "offered_on": timezone.localdate(grant.offered_at).isoformat(),
                "milestones": [
                    {
                        "kind": milestone.kind,
                        "state": milestone.state,
                        "target_date": milestone.target_date.isoformat(),
                        # Evidence is public once verified; unverified links are not vouched for.
                        "evidence_url": milestone.evidence_url
                        if milestone.state == "verified"
                        else "",
                        "kind_label": milestone.get_kind_display(),
                        "state_label": milestone.get_state_display(),
                    }
                    for milestone in milestones.get(grant.pk, [])
                ],
                # For the page only (never in downloads): names in the reader's language.
                "display": {
                    "center": grant.center.name,
                    "unit": unit_label(grant.unit),
                    "status": grant.get_status_display(),
                    "round": application.round.title,
                },
            }
        )
    return rows


def public_row(row: dict[str, Any]) -> dict[str, Any]:
    """A row as downloaded: the stable columns only."""
    return {
        **{column: row[column] for column in COLUMNS},
        "milestones": [
            {column: m[column] for column in MILESTONE_COLUMNS} for m in row["milestones"]
        ],
    }


def csv_row(row: dict[str, Any], generated_at: str) -> list[Any]:
    milestones = " | ".join(
        ":".join(str(m[column]) for column in MILESTONE_COLUMNS) for m in row["milestones"]
    )
    values = {**row, "company": row["company"] or "", "milestones": milestones}
    return [*(values[column] for column in COLUMNS), generated_at]


def consent_label() -> str:
    return _("Consent not given")
