"""Public draw API (no login): draws, the spec record, and one entrant's result."""

from __future__ import annotations

from django.http import Http404, StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from lottery import selectors
from lottery.models import Draw


def _draw(draw_id: str) -> Draw:
    try:
        return selectors.draw_get(draw_id=draw_id)
    except Draw.DoesNotExist:
        raise Http404 from None


class DrawOutputSerializer(serializers.Serializer):
    draw_id = serializers.CharField()
    round = serializers.CharField(source="round.code")
    state = serializers.CharField()
    winners = serializers.IntegerField()
    quotas = serializers.DictField()
    entries_close_at = serializers.DateTimeField()
    beacon_source = serializers.CharField()
    beacon_chain_hash = serializers.CharField()
    beacon_round = serializers.IntegerField(allow_null=True)
    beacon_description = serializers.CharField()
    entrants_count = serializers.IntegerField()
    entrants_digest = serializers.CharField()
    excluded_count = serializers.IntegerField()
    seed = serializers.CharField()
    winners_drawn = serializers.IntegerField()
    record_url = serializers.SerializerMethodField()
    page_url = serializers.SerializerMethodField()

    def get_record_url(self, draw: Draw) -> str:
        path = reverse("lottery_machine:draw_record", kwargs={"draw_id": draw.draw_id})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_page_url(self, draw: Draw) -> str:
        request = self.context.get("request")
        path = draw.get_absolute_url()
        return request.build_absolute_uri(path) if request else path


class DrawListApi(APIView):
    """Every announced draw, newest entry close first."""

    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(responses=DrawOutputSerializer(many=True), operation_id="draws_list")
    def get(self, request: Request) -> Response:
        draws = selectors.draw_list()
        return Response(DrawOutputSerializer(draws, many=True, context={"request": request}).data)


class DrawDetailApi(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(responses=DrawOutputSerializer, operation_id="draws_retrieve")
    def get(self, request: Request, draw_id: str) -> Response:
        draw = _draw(draw_id)
        return Response(DrawOutputSerializer(draw, context={"request": request}).data)


class DrawRecordApi(APIView):
    """The draw record exactly as specified by suanli-draw/1 (docs/lottery-spec.md), the same
    bytes as /draws/<draw_id>.json. Before the draw, seed, results and the beacon value are
    null; after it, withdrawals and promotions are appended as they happen."""

    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="suanli-draw/1 record")},
        operation_id="draws_record",
    )
    def get(self, request: Request, draw_id: str) -> StreamingHttpResponse:
        draw = _draw(draw_id)
        return StreamingHttpResponse(
            (chunk.encode() for chunk in selectors.draw_record_chunks(draw=draw)),
            content_type="application/json",
        )


class EntryOutputSerializer(serializers.Serializer):
    reference = serializers.CharField()
    stratum = serializers.CharField()
    ticket = serializers.CharField()
    rank = serializers.IntegerField()
    drawn_outcome = serializers.CharField()
    waitlist_position = serializers.IntegerField(allow_null=True)
    outcome = serializers.CharField()
    promoted_at = serializers.DateTimeField(allow_null=True)
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    withdrawal_reason = serializers.CharField()


class DrawEntryApi(APIView):
    """One entrant's result, found by reference ("find my reference")."""

    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(responses=EntryOutputSerializer, operation_id="draws_entry_retrieve")
    def get(self, request: Request, draw_id: str, reference: str) -> Response:
        entry = selectors.entry_find(draw=_draw(draw_id), reference=reference)
        if entry is None:
            raise Http404
        return Response(EntryOutputSerializer(entry).data)
