"""Reads of draws for pages, the API, grants and the record. Every results query is indexed:
by rank on the ranking blocks' unique (draw, first_rank), by reference through the ticket on
(draw, first_ticket), so pages and "find my reference" cost the same on a million-entrant draw
as on ten.

An entrant's result is their line in the published ranking (lottery.models.DrawRanking), or
their ``DrawEntry`` where one is kept (every winner, and whoever's result changed since): the
functions here return ``DrawEntry`` objects either way, unsaved (no pk) for a line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection
from django.db.models import F, QuerySet, TextField, Value
from django.db.models.functions import Concat, StrIndex, Substr

from core.db import server_bound_cursor
from lottery import draw as pure
from lottery import ranking
from lottery.models import Draw, DrawEntry, DrawEvent, DrawRanking
from lottery.record import iso_utc

# Big text columns that pages never need.
HEAVY_FIELDS = ("entrants_lines", "entrant_application_ids")


def draw_winners(*, draw: Draw) -> QuerySet[DrawEntry]:
    """Current winners (promoted ones included, withdrawn ones not), in rank order."""
    return DrawEntry.objects.filter(draw=draw, outcome=DrawEntry.Outcome.WINNER).order_by("rank")


def draw_list() -> QuerySet[Draw]:
    return (
        Draw.objects.defer(*HEAVY_FIELDS)
        .select_related("round__program")
        .order_by("-entries_close_at", "draw_id")
    )


def draw_get(*, draw_id: str) -> Draw:
    return Draw.objects.defer(*HEAVY_FIELDS).select_related("round__program").get(draw_id=draw_id)


@dataclass
class ResultsPage:
    entries: list[DrawEntry]
    number: int
    pages: int
    total: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def entry_from_line(draw: Draw, line: ranking.RankedLine) -> DrawEntry:
    """The entry a ranking line stands for, as the draw published it (not saved)."""
    return DrawEntry(
        draw=draw,
        application_id=line.application_id,
        reference=line.reference,
        stratum=line.stratum,
        ticket=line.ticket,
        rank=line.rank,
        drawn_outcome=line.drawn_outcome,
        waitlist_position=line.waitlist_position,
        outcome=line.drawn_outcome,
    )


# Blocks are never longer than this (models.RANKING_BLOCK now; a bound so the rank range
# lookup stays on the unique (draw, first_rank) index instead of scanning from rank 1).
RANKING_BLOCK_MAX = 10_000


def ranked_lines(*, draw: Draw, first: int, last: int) -> list[ranking.RankedLine]:
    """The ranking lines of ranks first..last, from the one or two blocks that hold them
    (a block's lines are its ranks in order, so only the wanted ones are parsed)."""
    blocks = (
        DrawRanking.objects.filter(
            draw=draw, first_rank__lte=last, first_rank__gt=first - RANKING_BLOCK_MAX
        )
        .filter(last_rank__gte=first)
        .order_by("first_rank")
        .values_list("first_rank", "lines")
    )
    wanted = []
    for block_first, lines in blocks:
        texts = lines.strip("\n").split("\n")
        start = max(first - block_first, 0)
        wanted.extend(map(ranking.line_parse, texts[start : last - block_first + 1]))
    return wanted


def ranked_entries(*, draw: Draw, first: int, last: int) -> list[DrawEntry]:
    """Every entrant of ranks first..last in rank order, as they stand now: the kept entry
    where there is one (current outcome, promotion, withdrawal), else the published line."""
    kept = {
        entry.rank: entry
        for entry in DrawEntry.objects.filter(draw=draw, rank__gte=first, rank__lte=last)
    }
    return [
        kept.get(line.rank) or entry_from_line(draw, line)
        for line in ranked_lines(draw=draw, first=first, last=last)
    ]


def draw_results_page(*, draw: Draw, page: int, size: int) -> ResultsPage:
    """Ranks are exactly 1..n, so page p is a range of ranks: one or two ranking blocks and
    the kept entries among them, with no OFFSET scan and no COUNT over a million rows."""
    total = draw.entrants_count
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    first = (page - 1) * size + 1
    entries = ranked_entries(draw=draw, first=first, last=first + size - 1)
    return ResultsPage(entries=entries, number=page, pages=pages, total=total)


def ranking_line_find(*, draw: Draw, reference: str) -> ranking.RankedLine | None:
    """A reference's line in a completed draw's ranking: its ticket says which block."""
    reference = reference.strip().upper()
    if not draw.seed or not pure._REF_RE.fullmatch(reference):
        return None
    ticket = pure.ticket_for(draw.seed, reference)
    blocks = (
        DrawRanking.objects.filter(draw=draw, first_ticket__lte=ticket)
        .order_by("-first_ticket")
        .values_list("lines", flat=True)
    )
    # Equal tickets (a SHA-256 collision, never seen) could straddle two blocks: look at the
    # block before too when the first does not hold the reference.
    for lines in blocks[:2]:
        line = ranking.line_of(lines, reference)
        if line is not None:
            return line
    return None


def entry_find(*, draw: Draw, reference: str) -> DrawEntry | None:
    """A reference's result in a completed draw: the kept entry, else its ranking line."""
    line = ranking_line_find(draw=draw, reference=reference)
    if line is None:
        return None
    kept = DrawEntry.objects.filter(draw=draw, rank=line.rank).first()
    return kept or entry_from_line(draw, line)


def entry_of_reference(*, reference: str) -> DrawEntry | None:
    """A reference's result in whichever completed draw it was entered (staff search)."""
    from applications.models import Application

    application = Application.objects.filter(reference=reference.strip().upper()).first()
    return entry_of_application(application) if application is not None else None


def entry_of_application(application) -> DrawEntry | None:
    """The status page's draw result: None until the round's draw is completed."""
    draw = Draw.objects.defer(*HEAVY_FIELDS).filter(round_id=application.round_id).first()
    if draw is None or draw.state != Draw.State.COMPLETED:
        return None
    kept = DrawEntry.objects.filter(application=application).first()
    if kept is not None:
        return kept
    # No kept entry for this application: its result is its ranking line, as drawn.
    line = ranking_line_find(draw=draw, reference=application.reference)
    return entry_from_line(draw, line) if line is not None else None


def entrant_listed(*, draw: Draw, reference: str) -> str | None:
    """Before the draw: the stratum of a reference on the frozen list, or None. The database
    finds the line, so the (possibly 20 MB) list never travels to Python."""
    reference = reference.strip().upper()
    if not reference or not pure._REF_RE.fullmatch(reference):
        return None
    needle = f"\n{reference}\t"
    row = (
        Draw.objects.filter(pk=draw.pk)
        .annotate(
            pos=StrIndex(
                Concat(Value("\n"), F("entrants_lines"), output_field=TextField()), Value(needle)
            )
        )
        .annotate(snippet=Substr("entrants_lines", F("pos"), 100))
        .values_list("pos", "snippet")
        .get()
    )
    if not row[0]:
        return None
    line = row[1].split("\n", 1)[0]
    return line.split("\t", 1)[1]


@dataclass
class DrawPageShown:
    """What the public draw page shows of a draw, as read for one request (see below)."""

    pk: int
    state: str
    rows: list[tuple]  # every value shown but the entry's: the key of the page kept per process
    entry: dict | None  # the entry of the reference asked for, if the draw has it


ENTRY_ANSWER_FIELDS = (
    "reference",
    "rank",
    "outcome",
    "promoted_at",
    "stratum",
    "ticket",
    "waitlist_position",
)


def _columns(model, alias: str, names) -> list[str]:
    return [f"{alias}.{model._meta.get_field(name).column}" for name in names]


# Seeds of completed draws, by draw id, as this process has seen them: a completed draw's seed
# never changes (lottery.db_guards), and knowing it lets "find my reference" compute the ticket
# that locates the reference's ranking block within its one query.
_COMPLETED_SEEDS: dict[str, str] = {}


def draw_page_shown(*, draw_id: str, reference: str) -> DrawPageShown | None:
    """Everything the public draw page shows of a draw, its round and its program, how far its
    timeline goes, and the entry of `reference`, in one query of one row: "find my reference"
    reads it on every request to key the page kept once per process (lottery/views.py).

    The timeline is keyed by its number of events and the last one's id: events are
    append-only, never changed or deleted, and name entries whose references never change
    (lottery.db_guards), so those two numbers say which events the page lists. The entry is
    the kept one (current outcome) if any, else the reference's ranking line, found from its
    ticket once this process knows the draw's seed (a second query the first time). Plain SQL
    because at the deadline the ORM's building of these queries cost more than the rest of the
    page, and PostgreSQL plans this in a third of the time a join of the events takes."""
    from applications.models import Application, CityProgram, Round

    reference = reference.strip().upper()
    valid_reference = bool(pure._REF_RE.fullmatch(reference))
    seed = _COMPLETED_SEEDS.get(draw_id)
    ticket = pure.ticket_for(seed, reference) if seed and valid_reference else None
    find = "strpos" if connection.vendor == "postgresql" else "instr"
    shown = [f.name for f in Draw._meta.concrete_fields if f.name not in ("id", *HEAVY_FIELDS)]
    events = DrawEvent._meta.db_table
    blocks = DrawRanking._meta.db_table
    sql = f"""
        SELECT {", ".join(_columns(Draw, "d", ["id", "state", *shown]))},
               {", ".join(_columns(Round, "r", ["title_zh", "title_en"]))},
               {", ".join(_columns(CityProgram, "p", ["name_zh", "name_en"]))},
               (SELECT COUNT(*) FROM {events} ev WHERE ev.draw_id = d.id),
               (SELECT MAX(ev.id) FROM {events} ev WHERE ev.draw_id = d.id),
               (SELECT substr(k.lines, {find}(k.lines, %s) + 1, 256) FROM {blocks} k
                WHERE k.draw_id = d.id AND k.first_ticket <= %s
                ORDER BY k.first_ticket DESC LIMIT 1),
               {", ".join(_columns(DrawEntry, "e", ENTRY_ANSWER_FIELDS))}
        FROM {Draw._meta.db_table} d
        JOIN {Round._meta.db_table} r ON r.id = d.round_id
        JOIN {CityProgram._meta.db_table} p ON p.id = r.program_id
        LEFT JOIN {DrawEntry._meta.db_table} e ON e.draw_id = d.id AND e.application_id = (
            SELECT a.id FROM {Application._meta.db_table} a WHERE a.reference = %s
        )
        WHERE d.draw_id = %s
    """  # noqa: S608 - table and column names come from the models; values are parameters
    with server_bound_cursor() as cursor:  # prepared: the deadline's busiest public query
        cursor.execute(sql, [f"\n{reference}\t", ticket, reference, draw_id])
        row = cursor.fetchone()
    if row is None:
        return None
    width = len(ENTRY_ANSWER_FIELDS)
    state, entry, snippet = row[1], row[-width:], row[-width - 1]
    found = dict(zip(ENTRY_ANSWER_FIELDS, entry, strict=True)) if entry[0] is not None else None
    if found is None and state == Draw.State.COMPLETED and valid_reference:
        line = None
        draw_seed = row[2 + shown.index("seed")]
        if seed != draw_seed:  # first sight of this draw completed: learn its seed, look again
            _COMPLETED_SEEDS[draw_id] = draw_seed
            draw = Draw(pk=row[0], draw_id=draw_id, seed=draw_seed)
            line = ranking_line_find(draw=draw, reference=reference)
        elif snippet is not None and snippet.startswith(f"{reference}\t"):
            line = ranking.line_parse(snippet.split("\n", 1)[0])
        if line is not None:
            found = {
                "reference": line.reference,
                "rank": line.rank,
                "outcome": line.drawn_outcome,
                "promoted_at": None,
                "stratum": line.stratum,
                "ticket": line.ticket,
                "waitlist_position": line.waitlist_position,
            }
    return DrawPageShown(pk=row[0], state=state, rows=[row[: -width - 1]], entry=found)


def draw_events(*, draw: Draw) -> QuerySet[DrawEvent]:
    return (
        DrawEvent.objects.filter(draw=draw).select_related("entry", "replaces").order_by("at", "id")
    )


def draw_public_events(*, draw: Draw) -> list[DrawEvent]:
    """What was published when (the timeline on the page)."""
    return list(draw_events(draw=draw))


def draw_withdrawals_and_promotions(*, draw: Draw) -> tuple[list[dict], list[dict]]:
    withdrawals, promotions = [], []
    for event in draw_events(draw=draw).filter(kind__in=["withdrawal", "promotion"]):
        if event.kind == DrawEvent.Kind.WITHDRAWAL:
            withdrawals.append(
                {"ref": event.entry.reference, "reason": event.reason, "at": iso_utc(event.at)}
            )
        else:
            promotions.append(
                {
                    "ref": event.entry.reference,
                    "replaces": event.replaces.reference,
                    "at": iso_utc(event.at),
                }
            )
    return withdrawals, promotions


def draw_result_rows(*, draw: Draw) -> Iterator[tuple]:
    """(ref, stratum, ticket, rank, drawn_outcome, waitlist_position) in rank order, a few
    ranking blocks at a time so a million lines never sit in memory at once."""
    blocks = (
        DrawRanking.objects.filter(draw=draw).order_by("first_rank").values_list("lines", flat=True)
    )
    for lines in blocks.iterator(chunk_size=20):
        yield from ranking.result_rows(lines)


def draw_needs_review_count(*, draw: Draw) -> int:
    from lottery.services import draw_needs_review_count as count

    return count(draw=draw)


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def draw_record_chunks(*, draw: Draw) -> Iterator[str]:
    """The spec's draw record as JSON text, in pieces (a million-entrant record is ~200 MB:
    it is streamed, never built whole). Before entries close ``entrants`` is null; before
    the draw ``seed``, ``results`` and the beacon value are null."""
    from lottery.services import beacon_of, entrants_of

    full = Draw.objects.get(pk=draw.pk)
    beacon = beacon_of(full).as_dict()
    frozen = full.state != Draw.State.ANNOUNCED
    completed = full.state == Draw.State.COMPLETED
    if not completed:
        for key in ("randomness", "signature", "value"):
            if key in beacon:
                beacon[key] = None
    head = {
        "spec": pure.SPEC,
        "draw_id": full.draw_id,
        "winners": full.winners,
        "quotas": full.quotas,
        "entries_close_at": iso_utc(full.entries_close_at),
    }
    yield "{" + ",".join(f"{_json(k)}:{_json(v)}" for k, v in head.items())
    if frozen:
        refs, strata = entrants_of(full)
        yield ',"entrants":['
        step = 100_000
        for start in range(0, len(refs), step):
            yield ("," if start else "") + ",".join(
                [
                    f'{{"ref":"{r}","stratum":"{s}"}}'
                    for r, s in zip(
                        refs[start : start + step], strata[start : start + step], strict=True
                    )
                ]
            )
        del refs, strata
        yield f'],"entrants_digest":{_json(full.entrants_digest)}'
    else:
        yield ',"entrants":null,"entrants_digest":null'
    yield f',"beacon":{_json(beacon)},"seed":{_json(full.seed if completed else None)}'
    if completed:
        yield ',"results":['
        first = True
        batch: list[str] = []
        for ref, stratum, ticket, rank, outcome, position in draw_result_rows(draw=full):
            batch.append(
                f'{{"ref":"{ref}","stratum":"{stratum}","ticket":"{ticket}","rank":{rank},'
                f'"outcome":"{outcome}","waitlist_position":'
                f"{'null' if position is None else position}}}"
            )
            if len(batch) >= 50_000:
                yield ("" if first else ",") + ",".join(batch)
                first, batch = False, []
        if batch:
            yield ("" if first else ",") + ",".join(batch)
        yield "]"
    else:
        yield ',"results":null'
    withdrawals, promotions = draw_withdrawals_and_promotions(draw=full)
    extra = {
        "withdrawals": withdrawals,
        "promotions": promotions,
        "state": full.state,
        "excluded_under_review": full.excluded_count,
        "published": {
            "announced_at": iso_utc(full.announced_at),
            "entrants_at": iso_utc(full.frozen_at),
            "beacon_value_at": iso_utc(full.beacon_value_at) if completed else None,
            "results_at": iso_utc(full.completed_at),
        },
    }
    yield "," + ",".join(f"{_json(k)}:{_json(v)}" for k, v in extra.items()) + "}"


def draw_record(*, draw: Draw) -> dict:
    """The record as data (tests, the verify_draw command on small draws)."""
    return json.loads("".join(draw_record_chunks(draw=draw)))
