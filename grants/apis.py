"""Center-facing API: usage reports signed like our webhooks (docs/webhooks.md, "Usage back")."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from centers.models import Center

from . import webhook_signing as signing
from .services import GrantError, usage_report_record


class UsageReportApi(APIView):
    """``POST /api/centers/<code>/usage-reports/`` signed with the center's usage secret.

    Signature first: a bad one is a 401 and nothing is read further. The report id makes a
    report idempotent: the same id again answers 200 with the stored report.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema_serializer(component_name="UsageReportInput")
    class InputSerializer(serializers.Serializer):
        report_id = serializers.CharField(max_length=100)
        grant_id = serializers.IntegerField(min_value=1)
        period_start = serializers.DateField()
        period_end = serializers.DateField()
        gpu_hours_used = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=0)

        def validate(self, attrs):
            if attrs["period_end"] < attrs["period_start"]:
                raise serializers.ValidationError("period_end is before period_start")
            return attrs

    @extend_schema_serializer(component_name="UsageReport")
    class OutputSerializer(serializers.Serializer):
        report_id = serializers.CharField()
        grant_id = serializers.IntegerField()
        period_start = serializers.DateField()
        period_end = serializers.DateField()
        gpu_hours_used = serializers.DecimalField(max_digits=16, decimal_places=2, source="used")
        received_at = serializers.DateTimeField()

    @extend_schema(
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            200: OutputSerializer,
            401: OpenApiResponse(description="Bad signature: nothing was stored."),
        },
        description="Signed like the webhooks (webhook-id, webhook-timestamp, webhook-signature)"
        " with the center's usage-report secret.",
    )
    def post(self, request, code: str):
        center = get_object_or_404(Center, code=code)
        raw = request.body
        try:
            document = signing.verify_request(
                body=raw, headers=dict(request.headers), secrets=center.usage_secrets()
            )
        except (signing.WebhookVerificationError, ValueError):
            return Response({"detail": "bad signature"}, status=status.HTTP_401_UNAUTHORIZED)
        serializer = self.InputSerializer(data=document)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            report, created = usage_report_record(
                center=center,
                report_id=data["report_id"],
                grant_id=data["grant_id"],
                period_start=data["period_start"],
                period_end=data["period_end"],
                used=data["gpu_hours_used"],
            )
        except GrantError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_404_NOT_FOUND)
        return Response(
            self.OutputSerializer(report).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
