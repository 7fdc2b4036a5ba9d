"""Machine verification for banks and investors: the same lookups as the public page, as JSON.

GET /api/letters/<code>/            a letter by its verification code, and the grant's current one
GET /api/letters/?sha256=<hex>      the issued letters whose PDF has this SHA-256 (hash locally;
                                    the file itself never needs to leave the checker's machine)
"""

from __future__ import annotations

import re

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from letters.content import verification_code_normalize
from letters.models import GrantLetter
from letters.selectors import grant_latest_letter, letter_by_code
from letters.services import letter_upload_check

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class LetterOutputSerializer(serializers.Serializer):
    verification_code = serializers.CharField()
    grant_id = serializers.CharField(source="facts.grant_id")
    version = serializers.IntegerField()
    kind = serializers.CharField()
    state = serializers.CharField()
    issued_on = serializers.CharField(source="facts.issued_on")
    sha256 = serializers.CharField()
    content_sha256 = serializers.CharField()


class VerificationOutputSerializer(serializers.Serializer):
    letter = LetterOutputSerializer()
    current = LetterOutputSerializer()
    grant_revoked = serializers.BooleanField()


class LetterVerifyApi(APIView):
    """A letter by its verification code: its state, its SHA-256 and the grant's current letter."""

    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(responses=VerificationOutputSerializer, operation_id="letters_verify_code")
    def get(self, request: Request, code: str) -> Response:
        normalized = verification_code_normalize(code)
        letter = letter_by_code(code=normalized) if normalized else None
        if letter is None:
            return Response(
                {"detail": "No letter has this code."}, status=status.HTTP_404_NOT_FOUND
            )
        current = grant_latest_letter(grant_id=letter.grant_id)
        data = {
            "letter": letter,
            "current": current,
            "grant_revoked": current.kind == GrantLetter.Kind.REVOCATION,
        }
        return Response(VerificationOutputSerializer(data).data)


class LetterHashApi(APIView):
    """The issued letters whose PDF file has the given SHA-256 (empty list: not a letter we issued)."""

    authentication_classes: list = []
    permission_classes: list = []

    class InputSerializer(serializers.Serializer):
        sha256 = serializers.RegexField(_SHA256, help_text="64 lower-case hex digits")

        def to_internal_value(self, data):
            data = {key: value.strip().lower() for key, value in data.items()}
            return super().to_internal_value(data)

    @extend_schema(
        parameters=[OpenApiParameter("sha256", str, required=True)],
        responses=LetterOutputSerializer(many=True),
        operation_id="letters_verify_sha256",
    )
    def get(self, request: Request) -> Response:
        serializer = self.InputSerializer(data={"sha256": request.query_params.get("sha256", "")})
        serializer.is_valid(raise_exception=True)
        check = letter_upload_check(sha256=serializer.validated_data["sha256"])
        return Response(LetterOutputSerializer(check.matches, many=True).data)
