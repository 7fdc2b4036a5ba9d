"""Public, read-only API: the dashboard's figures and the grant register.

The same rows as the pages and downloads (``presentation.table`` and ``register``), under the
same stable column names. Labels come in the language asked for with ``?lang=`` (``zh-hans``
or ``en``), else the Accept-Language header.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from grants.models import Grant

from .presentation import TABLES, table
from .register import public_row, register_filters, register_rows
from .selectors import ALL, figures_cached, register_grants

LANGUAGE_PARAMETER = OpenApiParameter(
    "lang",
    str,
    enum=["zh-hans", "en"],
    description="Language of the labels (default: Accept-Language, then zh-hans).",
)


def _language(request: Request) -> str:
    wanted = request.query_params.get("lang", "")
    codes = [code for code, _name in settings.LANGUAGES]
    return wanted if wanted in codes else translation.get_language() or settings.LANGUAGE_CODE


# --- figures -------------------------------------------------------------------------------


class FunnelRowSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(["received", "eligible", "drawn", "granted", "accepted"])
    label = serializers.CharField()
    count = serializers.IntegerField()


class ComputeRowSerializer(serializers.Serializer):
    unit = serializers.ChoiceField(["gpu_hours", "tokens"])
    offered = serializers.FloatField()
    allocated = serializers.FloatField()
    released = serializers.FloatField()
    used = serializers.FloatField()
    returned = serializers.FloatField()


class BreakdownRowSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True, help_text="City, center, band or revenue code.")
    label = serializers.CharField()
    received = serializers.IntegerField()
    eligible = serializers.IntegerField()
    drawn = serializers.IntegerField()
    granted = serializers.IntegerField()
    accepted = serializers.IntegerField()
    allocated = serializers.FloatField(help_text="GPU-hours.")
    released = serializers.FloatField(help_text="GPU-hours.")
    used = serializers.FloatField(help_text="GPU-hours.")
    returned = serializers.FloatField(help_text="GPU-hours.")
    offered = serializers.FloatField(required=False, help_text="Per center only: GPU-hours.")


class CountRowSerializer(serializers.Serializer):
    figure = serializers.CharField(required=False)
    category = serializers.CharField(required=False)
    label = serializers.CharField()
    count = serializers.IntegerField()


class OutcomeRowSerializer(serializers.Serializer):
    grant = serializers.IntegerField()
    kind = serializers.CharField()
    label = serializers.CharField()
    company = serializers.CharField(allow_null=True, help_text="Null without consent.")
    evidence_url = serializers.URLField()
    verified_on = serializers.DateField(allow_null=True)


class StratumRowSerializer(serializers.Serializer):
    round = serializers.CharField()
    stratum = serializers.CharField()
    label = serializers.CharField()
    entrants = serializers.IntegerField()
    winners = serializers.IntegerField()
    entrant_share = serializers.FloatField()
    winner_share = serializers.FloatField()


class SubmissionDayRowSerializer(serializers.Serializer):
    round = serializers.CharField()
    day = serializers.DateField()
    day_of_round = serializers.IntegerField()
    entrants = serializers.IntegerField()
    winners = serializers.IntegerField()
    entrant_share = serializers.FloatField()
    winner_share = serializers.FloatField()


class DayTestRowSerializer(serializers.Serializer):
    round = serializers.CharField()
    draw_id = serializers.CharField()
    days_counted = serializers.BooleanField(
        help_text="False for the few minutes after a freeze while entrants per day are counted: "
        "the test and the submission days are then left out."
    )
    statistic = serializers.FloatField(
        help_text="Chi-square statistic, winners' days against entrants'."
    )
    degrees_of_freedom = serializers.IntegerField()
    p_value = serializers.FloatField(allow_null=True, help_text="Null: too few winners to test.")


class DailyRowSerializer(serializers.Serializer):
    round = serializers.CharField()
    day = serializers.DateField()
    applications = serializers.IntegerField()


class ScopeRowSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="all, program:<code> or round:<code>")
    label = serializers.CharField()
    received = serializers.IntegerField()
    eligible = serializers.IntegerField()
    drawn = serializers.IntegerField()
    granted = serializers.IntegerField()
    accepted = serializers.IntegerField()
    offered = serializers.FloatField(help_text="GPU-hours.")
    allocated = serializers.FloatField(help_text="GPU-hours.")
    released = serializers.FloatField(help_text="GPU-hours.")
    used = serializers.FloatField(help_text="GPU-hours.")
    returned = serializers.FloatField(help_text="GPU-hours.")


class TablesSerializer(serializers.Serializer):
    programs_and_rounds = ScopeRowSerializer(many=True)
    funnel = FunnelRowSerializer(many=True)
    compute = ComputeRowSerializer(many=True)
    by_city = BreakdownRowSerializer(many=True)
    by_center = BreakdownRowSerializer(many=True)
    by_size_band = BreakdownRowSerializer(many=True)
    by_age_band = BreakdownRowSerializer(many=True)
    by_revenue_band = BreakdownRowSerializer(many=True)
    milestones = CountRowSerializer(many=True)
    outcomes = CountRowSerializer(many=True)
    latest_outcomes = OutcomeRowSerializer(many=True)
    fairness_strata = StratumRowSerializer(many=True)
    fairness_days = SubmissionDayRowSerializer(many=True)
    fairness_tests = DayTestRowSerializer(many=True)
    applications_per_day = DailyRowSerializer(many=True)


class FiguresOutputSerializer(serializers.Serializer):
    generated_at = serializers.DateTimeField()
    scope = serializers.CharField()
    scopes = serializers.ListField(child=serializers.CharField())
    gpu_hours_per_verified_outcome = serializers.FloatField(allow_null=True)
    tables = TablesSerializer()


class FiguresApi(APIView):
    """Every figure of the transparency dashboard for one scope: all programs (``all``), one
    program (``program:<code>``) or one round (``round:<code>``)."""

    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes = [AnonRateThrottle]

    @extend_schema(
        operation_id="transparency_figures",
        parameters=[
            OpenApiParameter("scope", str, description="all, program:<code> or round:<code>."),
            LANGUAGE_PARAMETER,
        ],
        responses=FiguresOutputSerializer,
    )
    def get(self, request: Request) -> Response:
        figures = figures_cached()
        scope = request.query_params.get("scope") or ALL
        if scope not in figures["scopes"]:
            return Response({"detail": "Unknown scope.", "scopes": sorted(figures["scopes"])}, 404)
        with translation.override(_language(request)):
            tables = {name: table(figures, scope, name) for name in TABLES}
        data = figures["scopes"][scope]
        return Response(
            {
                "generated_at": figures["generated_at"],
                "scope": scope,
                "scopes": sorted(figures["scopes"]),
                "gpu_hours_per_verified_outcome": data["outcomes"][
                    "gpu_hours_per_verified_outcome"
                ],
                "tables": tables,
            }
        )


# --- register ------------------------------------------------------------------------------


class RegisterMilestoneSerializer(serializers.Serializer):
    kind = serializers.CharField()
    state = serializers.CharField()
    target_date = serializers.DateField()
    evidence_url = serializers.CharField(help_text="Public evidence, once verified; else empty.")


class RegisterRowSerializer(serializers.Serializer):
    grant = serializers.CharField(help_text="G-<id>")
    round = serializers.CharField()
    program = serializers.CharField()
    company = serializers.CharField(
        allow_null=True, help_text="Null when the company did not consent to be named."
    )
    name_published = serializers.BooleanField()
    size_band = serializers.ChoiceField(["1-9", "10-19", "20-49", "50+"])
    city = serializers.CharField()
    center = serializers.CharField()
    unit = serializers.ChoiceField(["gpu_hours", "tokens"])
    amount = serializers.FloatField()
    released = serializers.FloatField()
    used = serializers.FloatField()
    status = serializers.ChoiceField(Grant.Status.values)
    offered_on = serializers.DateField()
    milestones = RegisterMilestoneSerializer(many=True)


class RegisterPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 500

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["generated_at"] = self.generated_at
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["generated_at"] = {"type": "string", "format": "date-time"}
        return schema


class GrantRegisterApi(APIView):
    """The public grant register, filtered by round, center, city and status, newest first."""

    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes = [AnonRateThrottle]
    pagination_class = RegisterPagination

    @extend_schema(
        operation_id="transparency_grants",
        parameters=[
            OpenApiParameter("round", str, description="Round code."),
            OpenApiParameter("center", str, description="Center code."),
            OpenApiParameter("city", str, description="City code of registration."),
            OpenApiParameter("status", str, enum=Grant.Status.values),
            OpenApiParameter("limit", int),
            OpenApiParameter("offset", int),
        ],
        responses=RegisterRowSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        from django.utils import timezone

        filters = register_filters(request.query_params)
        grants = register_grants(
            round_code=filters.get("round", ""),
            center_code=filters.get("center", ""),
            city=filters.get("city", ""),
            status=filters.get("status", ""),
        )
        paginator = self.pagination_class()
        paginator.generated_at = timezone.now().isoformat(timespec="seconds")
        page = paginator.paginate_queryset(grants, request, view=self)
        rows = [public_row(row) for row in register_rows(list(page))]
        return paginator.get_paginated_response(RegisterRowSerializer(rows, many=True).data)
