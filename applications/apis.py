"""Public API: open rounds, and submitting an application.

Submitting runs the very same rules as the web form (the JSON is mapped onto `ApplicationForm`)
and the very same service (`application_submit`), so the two can never disagree."""

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils import translation
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .forms import API_FIELD_FOR_FORM_FIELD, ApplicationForm, form_data_from_api
from .models import Application, Commitment
from .ratelimit import rate_limit_exceeded, retry_after_seconds
from .selectors import rounds_open
from .services import DuplicateApplication, RoundNotOpen, application_submit


class RoundOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    title_zh = serializers.CharField()
    title_en = serializers.CharField()
    program = serializers.CharField(source="program.code")
    program_name_zh = serializers.CharField(source="program.name_zh")
    program_name_en = serializers.CharField(source="program.name_en")
    contact_email = serializers.EmailField(source="program.contact_email")
    opens_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField()
    gpu_hours_on_offer = serializers.IntegerField()
    tokens_on_offer = serializers.IntegerField()
    grant_min_gpu_hours = serializers.IntegerField()
    grant_max_gpu_hours = serializers.IntegerField()
    winners = serializers.IntegerField()
    max_employees = serializers.IntegerField()
    max_company_age_years = serializers.IntegerField(allow_null=True)
    eligible_cities = serializers.ListField(child=serializers.CharField())
    acceptance_window_days = serializers.IntegerField()
    review_deadline = serializers.DateTimeField(allow_null=True)


class RoundListApi(APIView):
    """Rounds open for applications now, soonest closing first."""

    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(responses=RoundOutputSerializer(many=True), operation_id="rounds_open_list")
    def get(self, request: Request) -> Response:
        rounds = rounds_open().order_by("closes_at", "code")
        return Response(RoundOutputSerializer(rounds, many=True).data)


class RoundDetailApi(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(responses=RoundOutputSerializer, operation_id="rounds_open_detail")
    def get(self, request: Request, code: str) -> Response:
        round_ = get_object_or_404(rounds_open(), code=code)
        return Response(RoundOutputSerializer(round_).data)


class CommitmentInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Commitment.Kind.choices)
    target_date = serializers.CharField(required=False, allow_blank=True, help_text="YYYY-MM-DD")


class ApplicationSubmitApi(APIView):
    """Submit an application. Same rules and same outcome as the web form; the founder gets the
    same e-mail with the reference and the private status link."""

    # No session, no CSRF: anyone may submit, the rate limit and the rules keep it fair.
    authentication_classes: list = []
    permission_classes: list = []

    class InputSerializer(serializers.Serializer):
        """Shapes only, everything optional here: every rule (required fields included) is checked
        by ApplicationForm, shared with the web form, so both give the same messages."""

        round = serializers.CharField(required=False, help_text="Code of an open round")
        company_legal_name = serializers.CharField(required=False, allow_blank=True)
        uscc = serializers.CharField(
            required=False,
            allow_blank=True,
            help_text="Unified Social Credit Code (18 characters); spaces and hyphens are removed",
        )
        registration_city = serializers.CharField(
            required=False, allow_blank=True, help_text="City code, e.g. wuhan"
        )
        founded_on = serializers.CharField(required=False, allow_blank=True, help_text="YYYY-MM-DD")
        employees = serializers.CharField(required=False, allow_blank=True)
        revenue_band = serializers.CharField(
            required=False,
            allow_blank=True,
            help_text="One of: " + ", ".join(c for c, _ in Application.RevenueBand.choices),
        )
        website = serializers.CharField(required=False, allow_blank=True)
        founder_name = serializers.CharField(required=False, allow_blank=True)
        email = serializers.CharField(required=False, allow_blank=True)
        mobile = serializers.CharField(
            required=False, allow_blank=True, help_text="e.g. 13800138000 or +86 138 0013 8000"
        )
        preferred_centers = serializers.ListField(
            child=serializers.CharField(),
            required=False,
            max_length=3,
            help_text="Center codes, most wanted first (1 to 3)",
        )
        gpu_hours_requested = serializers.CharField(required=False, allow_blank=True)
        purpose = serializers.CharField(required=False, allow_blank=True, max_length=5000)
        commitments = serializers.ListField(
            child=CommitmentInputSerializer(),
            required=False,
            max_length=4,
            help_text="At least one; each kind once",
        )
        consent_terms = serializers.BooleanField(required=False, default=False)
        consent_publish_name = serializers.BooleanField(required=False, default=False)
        language = serializers.ChoiceField(
            choices=Application.Language.choices, required=False, default="zh-hans"
        )

    class OutputSerializer(serializers.Serializer):
        reference = serializers.CharField()
        round = serializers.CharField(source="round.code")
        status = serializers.CharField()
        eligibility_reason_zh = serializers.CharField()
        eligibility_reason_en = serializers.CharField()
        submitted_at = serializers.DateTimeField()

    @extend_schema(
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            400: OpenApiResponse(description="Field errors: {field: [message, …]}"),
            409: inline_serializer("DuplicateApplication", {"detail": serializers.CharField()}),
            429: OpenApiResponse(description="Too many submissions from this address"),
        },
        operation_id="application_submit",
    )
    def post(self, request: Request) -> Response:
        shape = self.InputSerializer(data=request.data)
        if not shape.is_valid():
            return Response(shape.errors, status=status.HTTP_400_BAD_REQUEST)
        payload = shape.validated_data
        language = payload["language"]
        with translation.override(language):
            form = ApplicationForm(form_data_from_api(payload))
            if not form.is_valid():
                errors: dict[str, list[str]] = {}
                for field, messages in form.errors.items():
                    key = API_FIELD_FOR_FORM_FIELD.get(field, field)
                    errors.setdefault(key, []).extend(str(m) for m in messages)
                return Response(errors, status=status.HTTP_400_BAD_REQUEST)
            if rate_limit_exceeded(
                request=request,
                scope="apply-submit",
                limit=settings.APPLICATION_RATE_LIMIT_PER_HOUR,
            ):
                return Response(
                    {"detail": "Too many submissions from this address; try again later."},
                    status=status.HTTP_429_TOO_MANY_REQUESTS,
                    headers={"Retry-After": str(retry_after_seconds())},
                )
            try:
                application = application_submit(**form.submission(), language=language)
            except DuplicateApplication as error:
                # Which reference it is stays private: the status link goes to the e-mail on file.
                del error
                return Response(
                    {
                        "detail": "This company has already applied to this round; there is one "
                        "application per company per round. The founder can get the status link "
                        "again on the website's 'My application' page."
                    },
                    status=status.HTTP_409_CONFLICT,
                )
            except RoundNotOpen:
                return Response(
                    {"round": ["This round is not open for applications."]},
                    status=status.HTTP_400_BAD_REQUEST,
                )
        return Response(self.OutputSerializer(application).data, status=status.HTTP_201_CREATED)
