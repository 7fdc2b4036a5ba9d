"""The public figures: who applied, who was drawn, where the compute went, what it produced.

Everything is computed by a fixed number of grouped queries (``values().annotate()``) per model,
each grouped by round; the totals for a program and for all programs are sums of the round rows
made in Python. So the number of queries does not grow with the number of applications, grants
or milestones, only the size of the grouped rows does (bounded by rounds × categories).

The result is a plain dict of numbers and codes (no translated text), cached under a version key
that ``transparency.services.figures_invalidate`` bumps; labels in the reader's language are
added when a page or download is made (``transparency.presentation``).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.cache import cache
from django.db.models import Case, CharField, Count, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from applications.models import Application, CityProgram, Round, Stratum
from centers.models import CapacityEntry, Center, CenterCapacity
from grants.models import Grant, Tranche, UsageReport
from lottery.models import Draw, DrawEntry
from milestones.models import Milestone

from .cache import figures_version
from .stats import winners_match_entrants

ALL = "all"
GPU_HOURS = "gpu_hours"
TOKENS = "tokens"
UNITS = (GPU_HOURS, TOKENS)

SIZE_BANDS = ("1-9", "10-19", "20-49", "50+")
AGE_BANDS = ("0-1", "1-3", "3-5", "5-10", "10+")
DIMENSIONS = ("city", "center", "size_band", "age_band", "revenue_band")
FUNNEL = ("received", "eligible", "drawn", "granted", "accepted")
COMPUTE = ("offered", "allocated", "released", "used", "returned")
BREAKDOWN_FIELDS = (*FUNNEL, "allocated", "released", "used", "returned")
OUTCOME_KINDS = {
    "open_weights": "open_source",
    "open_code": "open_source",
    "paper": "paper",
    "product_launch": "product",
}
MILESTONE_FIGURES = ("total", "due", "met", "overdue", "forfeited", "waived")
# Grants that were accepted at some point (the founder said yes).
ACCEPTED_STATUSES = ("accepted", "active", "completed", "revoked")
LATEST_OUTCOMES = 30
# Drawn: given a winner's seat, by the draw itself or by promotion from the waitlist later.
DRAWN_ENTRY = Q(drawn_outcome="winner") | Q(promoted_at__isnull=False)


# --- cache ------------------------------------------------------------------------------------


FIGURES_KEY = "transparency:figures"
REFRESH_LOCK_KEY = "transparency:figures:refreshing"


def figures_cached() -> dict[str, Any]:
    """The figures for the current version, recomputed when a change bumped the version or
    TRANSPARENCY_CACHE_SECONDS passed (so the open rounds' daily counts stay current).

    Only one reader recomputes at a time (a lock in the shared cache); readers arriving
    meanwhile get the previous figures, stamped with their own ``generated_at``, instead of
    all recomputing at once after a change. The beat task ``figures_refresh_task`` recomputes
    ahead of readers, so most of them never wait."""
    version = figures_version()
    stored = cache.get(FIGURES_KEY)
    fresh = (
        stored is not None
        and stored["version"] == version
        and time.time() - stored["computed_at"] < settings.TRANSPARENCY_CACHE_SECONDS
    )
    if fresh:
        return stored["figures"]
    locked = cache.add(REFRESH_LOCK_KEY, 1, timeout=120)
    if stored is not None and not locked:
        return stored["figures"]
    try:
        return figures_store(version=version)
    finally:
        if locked:
            cache.delete(REFRESH_LOCK_KEY)


def figures_store(*, version: str) -> dict[str, Any]:
    """Compute the figures and keep them under ``version`` (no expiry: stale figures are
    still served while one reader recomputes)."""
    figures = figures_compute()
    cache.set(
        FIGURES_KEY,
        {"version": version, "computed_at": time.time(), "figures": figures},
        timeout=None,
    )
    return figures


# --- how each category is computed in SQL --------------------------------------------------


def _size_band(prefix: str) -> Case:
    field = f"{prefix}employees"
    return Case(
        When(**{f"{field}__lt": 10}, then=Value("1-9")),
        When(**{f"{field}__lt": 20}, then=Value("10-19")),
        When(**{f"{field}__lt": 50}, then=Value("20-49")),
        default=Value("50+"),
        output_field=CharField(),
    )


def _age_band(prefix: str, today: dt.date) -> Case:
    """Company age today, from the founding date (thresholds computed here, so the SQL is only
    date comparisons and runs the same on SQLite and PostgreSQL)."""
    field = f"{prefix}founded_on"
    bounds = [(1, "0-1"), (3, "1-3"), (5, "3-5"), (10, "5-10")]
    return Case(
        *[
            When(**{f"{field}__gt": today - relativedelta(years=years)}, then=Value(label))
            for years, label in bounds
        ],
        default=Value("10+"),
        output_field=CharField(),
    )


def _application_dimension(name: str, prefix: str, today: dt.date):
    if name == "city":
        return F(f"{prefix}registration_city")
    if name == "size_band":
        return _size_band(prefix)
    if name == "age_band":
        return _age_band(prefix, today)
    if name == "revenue_band":
        return F(f"{prefix}revenue_band")
    raise ValueError(name)


def _dimension(name: str, *, application_prefix: str, center_field: str | None, today):
    if name == "center":
        return F(center_field) if center_field else None
    return _application_dimension(name, application_prefix, today)


def _number(value: Any) -> float | int:
    if value is None:
        return 0
    if isinstance(value, Decimal):
        return float(value.quantize(Decimal("0.01")))
    return value


# --- the figures ---------------------------------------------------------------------------


def _empty_breakdown_row() -> dict[str, float | int]:
    return dict.fromkeys(BREAKDOWN_FIELDS, 0)


def _empty_scope() -> dict[str, Any]:
    return {
        "funnel": dict.fromkeys(FUNNEL, 0),
        "compute": {unit: dict.fromkeys(COMPUTE, 0) for unit in UNITS},
        "by": {name: defaultdict(_empty_breakdown_row) for name in DIMENSIONS},
        "milestones": dict.fromkeys(MILESTONE_FIGURES, 0),
        "outcomes": {"open_source": 0, "paper": 0, "product": 0},
    }


def figures_compute(*, today: dt.date | None = None) -> dict[str, Any]:
    """Every figure of the dashboard for every scope: all programs, each program, each round."""
    today = today or timezone.localdate()
    now = timezone.now()
    rounds = list(
        Round.objects.values(
            "id",
            "code",
            "title_zh",
            "title_en",
            "opens_at",
            "closes_at",
            "gpu_hours_on_offer",
            "tokens_on_offer",
            "winners",
            program_code=F("program__code"),
        ).order_by("-opens_at", "code")
    )
    programs = list(CityProgram.objects.values("code", "name_zh", "name_en", "city_zh", "city_en"))
    centers = list(Center.objects.values("code", "name_zh", "name_en", "city_zh", "city_en"))
    strata = list(Stratum.objects.values("code", "name_zh", "name_en", round_code=F("round__code")))
    round_scope = {r["id"]: f"round:{r['code']}" for r in rounds}
    round_program = {r["id"]: f"program:{r['program_code']}" for r in rounds}

    scopes: dict[str, dict[str, Any]] = defaultdict(_empty_scope)

    def keys_for(round_id: int | None) -> list[str]:
        if round_id is None or round_id not in round_scope:
            return [ALL]
        return [ALL, round_program[round_id], round_scope[round_id]]

    def targets(round_id: int | None) -> list[dict[str, Any]]:
        return [scopes[key] for key in keys_for(round_id)]

    for r in rounds:
        for scope in targets(r["id"]):
            scope["compute"][GPU_HOURS]["offered"] += r["gpu_hours_on_offer"]
            scope["compute"][TOKENS]["offered"] += r["tokens_on_offer"]

    # Funnel totals: one query over applications, one over grants.
    for row in Application.objects.values("round_id").annotate(
        received=Count("id"),
        eligible=Count("id", filter=Q(status=Application.Status.ELIGIBLE)),
    ):
        for scope in targets(row["round_id"]):
            for field in ("received", "eligible"):
                scope["funnel"][field] += row[field]
    # Drawn is counted from the draw entries (far fewer rows than applications, no outer join).
    for row in (
        DrawEntry.objects.filter(DRAWN_ENTRY)
        .values(round_id=F("draw__round_id"))
        .annotate(drawn=Count("id"))
    ):
        for scope in targets(row["round_id"]):
            scope["funnel"]["drawn"] += row["drawn"]
    for row in Grant.objects.values(round_id=F("application__round_id")).annotate(
        granted=Count("id"),
        accepted=Count("id", filter=Q(status__in=ACCEPTED_STATUSES)),
    ):
        for scope in targets(row["round_id"]):
            scope["funnel"]["granted"] += row["granted"]
            scope["funnel"]["accepted"] += row["accepted"]

    # Compute totals per unit: the capacity ledger, released tranches, reported use.
    for row in CapacityEntry.objects.values(
        "kind", round_id=F("capacity__round_id"), unit=F("capacity__gpu_type__unit")
    ).annotate(total=Sum("amount")):
        field = {"allocation": "allocated", "return": "returned", "revocation": "returned"}.get(
            row["kind"]
        )
        if field and row["unit"] in UNITS:
            for scope in targets(row["round_id"]):
                scope["compute"][row["unit"]][field] += _number(row["total"])
    for row in (
        Tranche.objects.filter(state=Tranche.State.RELEASED)
        .values(round_id=F("grant__application__round_id"), unit=F("grant__unit"))
        .annotate(total=Sum("amount"))
    ):
        if row["unit"] in UNITS:
            for scope in targets(row["round_id"]):
                scope["compute"][row["unit"]]["released"] += _number(row["total"])
    for row in UsageReport.objects.values(
        round_id=F("grant__application__round_id"), unit=F("grant__unit")
    ).annotate(total=Sum("used")):
        if row["unit"] in UNITS:
            for scope in targets(row["round_id"]):
                scope["compute"][row["unit"]]["used"] += _number(row["total"])

    # Breakdowns (GPU-hours for compute): one grouped query per model and dimension.
    for name in DIMENSIONS:
        expression = _dimension(name, application_prefix="", center_field=None, today=today)
        if expression is not None:
            for row in (
                Application.objects.annotate(key=expression)
                .values("round_id", "key")
                .annotate(
                    received=Count("id"),
                    eligible=Count("id", filter=Q(status=Application.Status.ELIGIBLE)),
                )
            ):
                for scope in targets(row["round_id"]):
                    cell = scope["by"][name][row["key"]]
                    for field in ("received", "eligible"):
                        cell[field] += row[field]
            entry_key = _application_dimension(name, "application__", today)
            for row in (
                DrawEntry.objects.filter(DRAWN_ENTRY)
                .annotate(key=entry_key, round_id=F("draw__round_id"))
                .values("round_id", "key")
                .annotate(drawn=Count("id"))
            ):
                for scope in targets(row["round_id"]):
                    scope["by"][name][row["key"]]["drawn"] += row["drawn"]
        grant_key = _dimension(
            name, application_prefix="application__", center_field="center__code", today=today
        )
        for row in (
            Grant.objects.annotate(key=grant_key, round_id=F("application__round_id"))
            .values("round_id", "key")
            .annotate(
                granted=Count("id"),
                accepted=Count("id", filter=Q(status__in=ACCEPTED_STATUSES)),
            )
        ):
            for scope in targets(row["round_id"]):
                cell = scope["by"][name][row["key"]]
                cell["granted"] += row["granted"]
                cell["accepted"] += row["accepted"]
        ledger_key = _dimension(
            name,
            application_prefix="grant__application__",
            center_field="capacity__gpu_type__center__code",
            today=today,
        )
        for row in (
            CapacityEntry.objects.filter(capacity__gpu_type__unit=GPU_HOURS, grant__isnull=False)
            .annotate(key=ledger_key, round_id=F("capacity__round_id"))
            .values("round_id", "key", "kind")
            .annotate(total=Sum("amount"))
        ):
            field = {"allocation": "allocated", "return": "returned", "revocation": "returned"}
            if row["kind"] in field:
                for scope in targets(row["round_id"]):
                    scope["by"][name][row["key"]][field[row["kind"]]] += _number(row["total"])
        tranche_key = _dimension(
            name,
            application_prefix="grant__application__",
            center_field="grant__center__code",
            today=today,
        )
        for row in (
            Tranche.objects.filter(state=Tranche.State.RELEASED, grant__unit=GPU_HOURS)
            .annotate(key=tranche_key, round_id=F("grant__application__round_id"))
            .values("round_id", "key")
            .annotate(total=Sum("amount"))
        ):
            for scope in targets(row["round_id"]):
                scope["by"][name][row["key"]]["released"] += _number(row["total"])
        for row in (
            UsageReport.objects.filter(grant__unit=GPU_HOURS)
            .annotate(key=tranche_key, round_id=F("grant__application__round_id"))
            .values("round_id", "key")
            .annotate(total=Sum("used"))
        ):
            for scope in targets(row["round_id"]):
                scope["by"][name][row["key"]]["used"] += _number(row["total"])

    # Offered compute per center comes from the centers' capacity for each round.
    for row in (
        CenterCapacity.objects.filter(gpu_type__unit=GPU_HOURS)
        .values("round_id", key=F("gpu_type__center__code"))
        .annotate(total=Sum("capacity"))
    ):
        for scope in targets(row["round_id"]):
            scope["by"]["center"][row["key"]].setdefault("offered", 0)
            scope["by"]["center"][row["key"]]["offered"] += _number(row["total"])

    # Outcomes: milestones by kind and state, in one query.
    for row in Milestone.objects.values(
        "kind", "state", round_id=F("grant__application__round_id")
    ).annotate(total=Count("id"), due=Count("id", filter=Q(target_date__lte=today))):
        for scope in targets(row["round_id"]):
            figures = scope["milestones"]
            figures["total"] += row["total"]
            figures["due"] += row["due"]
            state_field = {
                "verified": "met",
                "overdue": "overdue",
                "forfeited": "forfeited",
                "waived": "waived",
            }.get(row["state"])
            if state_field:
                figures[state_field] += row["total"]
            if row["state"] == "verified" and row["kind"] in OUTCOME_KINDS:
                scope["outcomes"][OUTCOME_KINDS[row["kind"]]] += row["total"]

    latest = _latest_outcomes(keys_for=keys_for)

    fairness = _fairness(rounds)
    series = _applications_per_day(rounds, now=now)

    result_scopes = {}
    for key, scope in scopes.items():
        verified = sum(scope["outcomes"].values())
        released = scope["compute"][GPU_HOURS]["released"]
        result_scopes[key] = {
            "funnel": scope["funnel"],
            "compute": scope["compute"],
            "by": {
                name: [
                    {"key": category, **values}
                    for category, values in sorted(rows.items(), key=_category_order(name))
                ]
                for name, rows in scope["by"].items()
            },
            "milestones": scope["milestones"],
            "outcomes": {
                **scope["outcomes"],
                "verified": verified,
                "gpu_hours_per_verified_outcome": round(released / verified, 1)
                if verified
                else None,
            },
            "latest_outcomes": latest.get(key, []),
        }
    if ALL not in result_scopes:
        result_scopes[ALL] = _finish_empty()
    return {
        "generated_at": now.isoformat(timespec="seconds"),
        "programs": [
            {"key": f"program:{p['code']}", **p} for p in sorted(programs, key=lambda p: p["code"])
        ],
        "rounds": [
            {
                "key": round_scope[r["id"]],
                "code": r["code"],
                "program": r["program_code"],
                "title_zh": r["title_zh"],
                "title_en": r["title_en"],
                "opens_at": r["opens_at"].isoformat(timespec="seconds"),
                "closes_at": r["closes_at"].isoformat(timespec="seconds"),
                "is_open": r["opens_at"] <= now < r["closes_at"],
            }
            for r in rounds
        ],
        "centers": centers,
        "strata": strata,
        "scopes": result_scopes,
        "fairness": fairness,
        "applications_per_day": series,
    }


def _finish_empty() -> dict[str, Any]:
    scope = _empty_scope()
    return {
        "funnel": scope["funnel"],
        "compute": scope["compute"],
        "by": {name: [] for name in DIMENSIONS},
        "milestones": scope["milestones"],
        "outcomes": {**scope["outcomes"], "verified": 0, "gpu_hours_per_verified_outcome": None},
        "latest_outcomes": [],
    }


def _category_order(name: str):
    fixed = {
        "size_band": SIZE_BANDS,
        "age_band": AGE_BANDS,
        "revenue_band": tuple(Application.RevenueBand.values),
    }.get(name)

    def key(item):
        category = item[0] if item[0] is not None else ""
        if fixed and category in fixed:
            return (0, fixed.index(category), "")
        return (1, 0, str(category))

    return key


def _latest_outcomes(*, keys_for) -> dict[str, list[dict[str, Any]]]:
    """The most recent verified outcomes with their public evidence, per scope (one query)."""
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    rows = (
        Milestone.objects.filter(state="verified", kind__in=list(OUTCOME_KINDS))
        .exclude(evidence_url="")
        .order_by("-decided_at", "-id")
        .values(
            "id",
            "kind",
            "evidence_url",
            "decided_at",
            "grant_id",
            round_id=F("grant__application__round_id"),
            company=F("grant__application__company_legal_name"),
            consent=F("grant__application__consent_publish_name"),
        )[: LATEST_OUTCOMES * 20]
    )
    for row in rows:
        item = {
            "grant": row["grant_id"],
            "kind": row["kind"],
            "category": OUTCOME_KINDS[row["kind"]],
            "company": row["company"] if row["consent"] else None,
            "evidence_url": row["evidence_url"],
            "verified_on": timezone.localdate(row["decided_at"]).isoformat()
            if row["decided_at"]
            else None,
        }
        for key in keys_for(row["round_id"]):
            if len(found[key]) < LATEST_OUTCOMES:
                found[key].append(item)
    return found


def _fairness(rounds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per draw: winners' share of each stratum against entrants' share, and the same for the
    day of submission (a draw that favours early or late submitters shows here)."""
    strata: dict[int, dict[str, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: {"entrants": 0, "winners": 0})
    )
    # The draw's own result (drawn_outcome), not later withdrawals and promotions: this is the
    # test of the draw, and the published result never changes. Entrants are counted once, at
    # the freeze (Draw.entrant_counts); the drawn winners each have an entry.
    draw_ids: dict[int, str] = {}
    days: dict[int, dict[dt.date, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: {"entrants": 0, "winners": 0})
    )
    days_counted: dict[int, bool] = {}
    for round_id, draw_key, counts, entrant_days in Draw.objects.filter(
        state=Draw.State.COMPLETED
    ).values_list("round_id", "draw_id", "entrant_counts", "entrant_days"):
        draw_ids[round_id] = draw_key
        for stratum, n in (counts or {}).get("strata", {}).items():
            strata[round_id][stratum]["entrants"] += n
        # Counted by a task just after the freeze, long before the beacon; None only if that
        # count is still to come (then the days are left out, not shown as zeros).
        days_counted[round_id] = entrant_days is not None
        for day, n in (entrant_days or {}).items():
            days[round_id][dt.date.fromisoformat(day)]["entrants"] += n
    drawn_winners = DrawEntry.objects.filter(
        drawn_outcome=DrawEntry.Outcome.WINNER, draw__state=Draw.State.COMPLETED
    )
    for row in drawn_winners.values("stratum", round_id=F("draw__round_id")).annotate(
        total=Count("id")
    ):
        strata[row["round_id"]][row["stratum"] or ""]["winners"] += row["total"]
    for row in (
        drawn_winners.annotate(day=TruncDate("application__submitted_at"))
        .values("day", round_id=F("draw__round_id"))
        .annotate(total=Count("id"))
    ):
        days[row["round_id"]][row["day"]]["winners"] += row["total"]
    draws = []
    for r in rounds:
        if r["id"] not in strata:
            continue
        entrants = sum(c["entrants"] for c in strata[r["id"]].values())
        winners = sum(c["winners"] for c in strata[r["id"]].values())
        opened = timezone.localdate(r["opens_at"])
        ordered_days = sorted(days[r["id"]].items()) if days_counted[r["id"]] else []
        test = winners_match_entrants(
            [cell["entrants"] for _day, cell in ordered_days],
            [cell["winners"] for _day, cell in ordered_days],
        )
        draws.append(
            {
                "round": r["code"],
                "draw_id": draw_ids[r["id"]],
                "entrants": entrants,
                "winners": winners,
                "strata": [
                    {
                        "stratum": code,
                        **cell,
                        "entrant_share": _share(cell["entrants"], entrants),
                        "winner_share": _share(cell["winners"], winners),
                    }
                    for code, cell in sorted(strata[r["id"]].items())
                ],
                "submission_days": [
                    {
                        "day": day.isoformat(),
                        "day_of_round": (day - opened).days + 1,
                        **cell,
                        "entrant_share": _share(cell["entrants"], entrants),
                        "winner_share": _share(cell["winners"], winners),
                    }
                    for day, cell in ordered_days
                ],
                "submission_days_counted": days_counted[r["id"]],
                "submission_day_test": {
                    "statistic": test.statistic,
                    "degrees_of_freedom": test.degrees_of_freedom,
                    "p_value": None if test.p_value is None else round(test.p_value, 4),
                },
            }
        )
    return draws


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _applications_per_day(rounds, *, now) -> list[dict[str, Any]]:
    """Applications per day for the rounds open now, every day from opening to today."""
    open_rounds = {r["id"]: r for r in rounds if r["opens_at"] <= now < r["closes_at"]}
    if not open_rounds:
        return []
    counts: dict[int, dict[dt.date, int]] = defaultdict(dict)
    for row in (
        Application.objects.filter(round_id__in=list(open_rounds))
        .annotate(day=TruncDate("submitted_at"))
        .values("round_id", "day")
        .annotate(total=Count("id"))
    ):
        counts[row["round_id"]][row["day"]] = row["total"]
    today = timezone.localdate(now)
    series = []
    for round_id, r in open_rounds.items():
        day = timezone.localdate(r["opens_at"])
        points = []
        while day <= today:
            points.append({"day": day.isoformat(), "applications": counts[round_id].get(day, 0)})
            day += dt.timedelta(days=1)
        series.append({"round": r["code"], "points": points})
    return series


# --- the public grant register -------------------------------------------------------------


def register_grants(
    *,
    round_code: str = "",
    center_code: str = "",
    city: str = "",
    status: str = "",
) -> QuerySet[Grant]:
    """Grants for the public register, filtered, newest first. Released and used compute come
    from ``register_compute`` for the page shown, so counting the pages stays a plain COUNT."""
    grants = Grant.objects.select_related("application__round__program", "center").order_by(
        "-offered_at", "-id"
    )
    if round_code:
        grants = grants.filter(application__round__code=round_code)
    if center_code:
        grants = grants.filter(center__code=center_code)
    if city:
        grants = grants.filter(application__registration_city=city)
    if status:
        grants = grants.filter(status=status)
    return grants


def register_compute(*, grant_ids: list[int]) -> dict[int, tuple[Decimal, Decimal]]:
    """Released and used compute of a page of grants: two grouped queries (separate, so
    tranches and usage reports never multiply each other's rows)."""
    released = dict(
        Tranche.objects.filter(grant_id__in=grant_ids, state=Tranche.State.RELEASED)
        .values("grant_id")
        .annotate(total=Sum("amount"))
        .values_list("grant_id", "total")
    )
    used = dict(
        UsageReport.objects.filter(grant_id__in=grant_ids)
        .values("grant_id")
        .annotate(total=Sum("used"))
        .values_list("grant_id", "total")
    )
    zero = Decimal(0)
    return {pk: (released.get(pk) or zero, used.get(pk) or zero) for pk in grant_ids}


def register_milestones(*, grant_ids: list[int]) -> dict[int, list[Milestone]]:
    """The milestones of a page of grants, in one query."""
    found: dict[int, list[Milestone]] = defaultdict(list)
    for milestone in Milestone.objects.filter(grant_id__in=grant_ids).order_by(
        "grant_id", "target_date", "id"
    ):
        found[milestone.grant_id].append(milestone)
    return found
