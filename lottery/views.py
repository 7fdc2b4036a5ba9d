"""Public draw pages (no login, both languages) and the machine-readable record."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from applications.models import Round
from applications.templatetags.language_links import language_switch_part
from core.page_frames import frame_hole, frame_render, frame_usable
from lottery import draw as pure
from lottery import selectors
from lottery.beacon import drand_public_url
from lottery.models import Draw
from lottery.record import iso_utc

VERIFIER_PATH = Path(__file__).resolve().parent / "verify_draw.py"


def _draw_or_404(draw_id: str) -> Draw:
    try:
        return selectors.draw_get(draw_id=draw_id)
    except Draw.DoesNotExist:
        raise Http404("No such draw") from None


@require_GET
def draw_list(request: HttpRequest) -> HttpResponse:
    draws = list(selectors.draw_list())
    without_draw = Round.objects.filter(draw__isnull=True).select_related("program")
    return render(
        request, "lottery/draw_list.html", {"draws": draws, "rounds_without_draw": without_draw}
    )


def _result_rows(entries) -> list[tuple]:
    """Table rows with their outcome text resolved once per page, not once per row in the
    template: the results page must stay fast at a hundred rows."""
    winner, promoted, withdrawn = _("Winner"), _("Winner (promoted)"), _("Withdrawn")
    waitlist = _("Waitlist %(position)s")
    rows = []
    for entry in entries:
        if entry.outcome == "winner":
            outcome = ("tag-green", promoted if entry.promoted_at else winner)
        elif entry.outcome == "withdrawn":
            outcome = ("tag-grey", withdrawn)
        else:
            outcome = ("", waitlist % {"position": entry.waitlist_position})
        rows.append((entry.rank, entry.reference, entry.stratum or "—", *outcome, entry.ticket))
    return rows


def _page_context(request: HttpRequest, draw: Draw, *, results, query) -> dict:
    record_path = reverse("lottery_machine:draw_record", kwargs={"draw_id": draw.draw_id})
    beacon_source_url = None
    beacon_time = None
    if draw.beacon_source == Draw.BeaconSource.DRAND and draw.beacon_round:
        beacon_source_url = drand_public_url(
            settings.LOTTERY_DRAND_BASE_URL, draw.beacon_chain_hash, draw.beacon_round
        )
        if draw.beacon_chain_hash in pure.DRAND_CHAINS:
            beacon_time = pure.drand_round_time(draw.beacon_round, draw.beacon_chain_hash)
    return {
        "draw": draw,
        "round": draw.round,
        "events": selectors.draw_public_events(draw=draw),
        "results": results,
        "result_rows": _result_rows(results.entries) if results else [],
        "query": query,
        "record_path": record_path,
        "record_url": request.build_absolute_uri(record_path),
        "verifier_url": request.build_absolute_uri(reverse("lottery_machine:verifier")),
        "beacon_source_url": beacon_source_url,
        "beacon_time": beacon_time,
        "quotas": sorted((draw.quotas or {}).items()),
        "seed_hex": draw.seed if draw.is_completed else "",
        "close_iso": iso_utc(draw.entries_close_at),
    }


def _found_from_frame(request: HttpRequest, draw_id: str, query: str) -> HttpResponse | None:
    """Find my reference, answered from the page kept once per process (core.page_frames): the
    deadline's busiest public page. The frame is kept per draw as it is now and per kind of
    answer (winner, promoted, withdrawn or waitlisted; with a group or not; listed or not before
    the draw); the entry's own values fill it. None when the page would show more than the
    answer (a reference not found on a completed draw shows the results) or the visitor has
    messages."""
    if not frame_usable(request):
        return None
    shown = selectors.draw_page_shown(draw_id=draw_id, reference=query)
    if shown is None:
        raise Http404("No such draw")
    size = settings.LOTTERY_RESULTS_PAGE_SIZE
    parts = {"query": query}
    if shown.state == Draw.State.COMPLETED and shown.entry is not None:
        entry = shown.entry
        parts.update(
            reference=entry["reference"],
            rank=entry["rank"],
            position=entry["waitlist_position"],
            stratum=entry["stratum"],
            ticket=entry["ticket"],
            found_page=(entry["rank"] - 1) // size + 1,
        )
        answer_kind = [entry["outcome"], bool(entry["promoted_at"]), bool(entry["stratum"])]
        found = {
            "reference": frame_hole("reference"),
            "rank": frame_hole("rank"),
            "outcome": entry["outcome"],
            "promoted_at": bool(entry["promoted_at"]),
            "stratum": frame_hole("stratum") if entry["stratum"] else "",
            "ticket": frame_hole("ticket"),
            "waitlist_position": frame_hole("position"),
        }
        listed_stratum = None
    elif shown.state == Draw.State.FROZEN:
        listed_stratum = selectors.entrant_listed(draw=Draw(pk=shown.pk), reference=query)
        answer_kind = ["listed", listed_stratum is not None]
        found = None
    else:
        return None

    def context() -> dict:
        draw = _draw_or_404(draw_id)
        return {
            **_page_context(request, draw, results=None, query=query),
            "found": found,
            "found_page": frame_hole("found_page"),
            "listed_stratum": listed_stratum,
        }

    return frame_render(
        request,
        "lottery/draw_detail.html",
        shown=[shown.rows, answer_kind],
        context=context,
        parts={
            **{name: conditional_escape(localize(value)) for name, value in parts.items()},
            "language_switch_path": language_switch_part(request),
        },
    )


@require_GET
def draw_detail(request: HttpRequest, draw_id: str) -> HttpResponse:
    query = request.GET.get("ref", "").strip()
    if query:
        response = _found_from_frame(request, draw_id, query)
        if response is not None:
            return response
    draw = _draw_or_404(draw_id)
    size = settings.LOTTERY_RESULTS_PAGE_SIZE
    try:
        page_number = int(request.GET.get("page", "1"))
    except ValueError:
        page_number = 1
    found = None
    listed_stratum = None
    if query:
        if draw.is_completed:
            found = selectors.entry_find(draw=draw, reference=query)
        elif draw.is_frozen:
            listed_stratum = selectors.entrant_listed(draw=draw, reference=query)
    # A founder who found their entry has their answer: the page links to the results page that
    # holds it instead of rendering a hundred rows of other people's (most of this page's cost).
    results = (
        selectors.draw_results_page(draw=draw, page=page_number, size=size)
        if draw.is_completed and found is None
        else None
    )
    return render(
        request,
        "lottery/draw_detail.html",
        {
            **_page_context(request, draw, results=results, query=query),
            "found": found,
            "found_page": (found.rank - 1) // size + 1 if found is not None else None,
            "listed_stratum": listed_stratum,
        },
    )


@require_GET
def draw_record(request: HttpRequest, draw_id: str) -> StreamingHttpResponse:
    """The spec's record, byte for byte what the verifier reads (streamed: it can be large)."""
    draw = _draw_or_404(draw_id)
    response = StreamingHttpResponse(
        (chunk.encode() for chunk in selectors.draw_record_chunks(draw=draw)),
        content_type="application/json",
    )
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "public, max-age=60"
    return response


@require_GET
def verifier_download(request: HttpRequest) -> FileResponse:
    """The standalone verifier, exactly the file in the repository."""
    return FileResponse(
        VERIFIER_PATH.open("rb"),
        as_attachment=True,
        filename="verify_draw.py",
        content_type="text/x-python; charset=utf-8",
    )
