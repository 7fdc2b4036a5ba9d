"""Public draw pages (no login, both languages) and the machine-readable record."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from applications.models import Round
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


@require_GET
def draw_detail(request: HttpRequest, draw_id: str) -> HttpResponse:
    draw = _draw_or_404(draw_id)
    size = settings.LOTTERY_RESULTS_PAGE_SIZE
    try:
        page_number = int(request.GET.get("page", "1"))
    except ValueError:
        page_number = 1
    query = request.GET.get("ref", "").strip()
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
    result_rows = _result_rows(results.entries) if results else []
    found_page = (found.rank - 1) // size + 1 if found is not None else None
    record_path = reverse("lottery_machine:draw_record", kwargs={"draw_id": draw.draw_id})
    record_url = request.build_absolute_uri(record_path)
    verifier_url = request.build_absolute_uri(reverse("lottery_machine:verifier"))
    beacon_source_url = None
    beacon_time = None
    if draw.beacon_source == Draw.BeaconSource.DRAND and draw.beacon_round:
        beacon_source_url = drand_public_url(
            settings.LOTTERY_DRAND_BASE_URL, draw.beacon_chain_hash, draw.beacon_round
        )
        if draw.beacon_chain_hash in pure.DRAND_CHAINS:
            beacon_time = pure.drand_round_time(draw.beacon_round, draw.beacon_chain_hash)
    context = {
        "draw": draw,
        "round": draw.round,
        "events": selectors.draw_public_events(draw=draw),
        "results": results,
        "result_rows": result_rows,
        "query": query,
        "found": found,
        "found_page": found_page,
        "listed_stratum": listed_stratum,
        "record_path": record_path,
        "record_url": record_url,
        "verifier_url": verifier_url,
        "beacon_source_url": beacon_source_url,
        "beacon_time": beacon_time,
        "quotas": sorted((draw.quotas or {}).items()),
        "seed_hex": draw.seed if draw.is_completed else "",
        "close_iso": iso_utc(draw.entries_close_at),
    }
    return render(request, "lottery/draw_detail.html", context)


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
