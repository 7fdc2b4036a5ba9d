"""Business actions of the draw: announce, freeze, beacon, execute, withdraw and promote.

The computation itself is ``lottery.draw`` (pure); before anything is published it is checked
against ``lottery.verify_draw``, the standalone verifier's independent re-implementation.
Every function here is the only place its action happens: admin, API, commands, demo and
Celery tasks all call these.
"""

from __future__ import annotations

import hashlib
import logging
import operator
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from itertools import compress
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.db.models.functions import Collate, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.models import Application, Round
from core.services import audit_record
from lottery import beacon as beacon_client
from lottery import cross_check, ranking, selectors
from lottery import draw as pure
from lottery import verify_draw as independent
from lottery.models import RANKING_BLOCK, Draw, DrawEntry, DrawEvent, DrawRanking
from notifications.services import notification_send

logger = logging.getLogger(__name__)

EXCLUDED_REASON_EN = "Still under review when the review deadline passed"
EXCLUDED_REASON_ZH = "审核截止时仍在审核中"


class DrawError(Exception):
    """A draw action the rules refuse; the message is safe to show staff."""


class DrawNotReadyError(DrawError):
    """The action must wait (entries still open, reviews pending, no beacon value yet)."""


class FairnessCheckError(DrawError):
    """The draw code and the independent recomputation disagree: nothing is published."""


# --- inputs -------------------------------------------------------------------------------


def quotas_for_round(round: Round) -> dict[str, pure.Quota]:
    return {
        stratum.code: pure.Quota(reserved=stratum.reserved, cap=stratum.cap)
        for stratum in round.strata.all()
        if stratum.reserved or stratum.cap is not None
    }


def quotas_of(draw: Draw) -> dict[str, pure.Quota]:
    return pure.validate_quotas(draw.quotas or {}, draw.winners)


def beacon_of(draw: Draw) -> pure.Beacon:
    if draw.beacon_source == Draw.BeaconSource.DRAND:
        return pure.Beacon(
            source="drand",
            chain_hash=draw.beacon_chain_hash,
            round=draw.beacon_round,
            randomness=draw.beacon_randomness or None,
            signature=draw.beacon_signature or None,
        )
    return pure.Beacon(
        source="declared",
        description=draw.beacon_description,
        value=draw.beacon_value or None,
    )


def entrants_of(draw: Draw) -> tuple[list[str], list[str]]:
    """The frozen entrants (refs, strata) sorted by ref, from the hashed text itself, checked
    whole on the way (each line one valid reference and stratum)."""
    return pure.entrants_from_text(draw.entrants_lines)


def _beacon_for_announcement(
    *,
    round: Round,
    beacon_source: str,
    beacon_round: int | None,
    beacon_description: str,
) -> pure.Beacon:
    if beacon_source == Draw.BeaconSource.DRAND:
        chain_hash = settings.LOTTERY_DRAND_CHAIN_HASH
        if chain_hash not in pure.DRAND_CHAINS:
            raise pure.DrawInputError(
                "beacon.chain_hash", "only drand quicknet rounds can be timed and verified"
            )
        if beacon_round is None:
            beacon_round = pure.drand_first_round_after(
                round.closes_at,
                delay=timedelta(minutes=settings.LOTTERY_BEACON_DELAY_MINUTES),
                chain_hash=chain_hash,
            )
        beacon = pure.validate_beacon(
            {"source": "drand", "chain_hash": chain_hash, "round": beacon_round},
            require_value=False,
        )
    else:
        beacon = pure.validate_beacon(
            {"source": beacon_source, "description": beacon_description}, require_value=False
        )
    pure.validate_beacon_schedule(beacon, round.closes_at)
    return beacon


def _event(draw: Draw, kind: str, at: datetime, **fields: Any) -> DrawEvent:
    return DrawEvent.objects.create(draw=draw, kind=kind, at=at, **fields)


def _staff_alert(*, draw: Draw, problem: str) -> None:
    """Alert staff by e-mail (the notifications app records and delivers it)."""
    logger.error("draw %s: %s", draw.draw_id, problem)
    for address in settings.STAFF_ALERT_EMAILS:
        notification_send(
            kind="draw_alert",
            to_email=address,
            language=settings.LANGUAGE_CODE,
            context={"draw": draw, "problem": problem, "draw_url": draw.get_absolute_url()},
            related=draw,
        )


# --- announce -----------------------------------------------------------------------------


def draw_announce(
    *,
    round: Round,
    beacon_source: str = Draw.BeaconSource.DRAND,
    beacon_round: int | None = None,
    beacon_description: str = "",
    actor: AbstractBaseUser | None = None,
    now: datetime | None = None,
) -> Draw:
    """Publish the draw of a round before any entry: id, K, quotas, close time, beacon.

    Idempotent: a round's existing draw is returned unchanged. Raises ``DrawInputError``
    naming the field for a configuration outside the spec."""
    now = now or timezone.now()
    existing = Draw.objects.filter(round=round).first()
    if existing is not None:
        return existing
    pure.validate_draw_id(round.code)
    winners = pure.validate_winners(round.winners)
    quotas = pure.validate_quotas(quotas_for_round(round), winners)
    beacon = _beacon_for_announcement(
        round=round,
        beacon_source=beacon_source,
        beacon_round=beacon_round,
        beacon_description=beacon_description,
    )
    with transaction.atomic():
        draw, created = Draw.objects.get_or_create(
            round=round,
            defaults={
                "draw_id": round.code,
                "winners": winners,
                "quotas": {s: q.as_dict() for s, q in sorted(quotas.items())},
                "entries_close_at": round.closes_at,
                "beacon_source": beacon.source,
                "beacon_chain_hash": beacon.chain_hash,
                "beacon_round": beacon.round,
                "beacon_description": beacon.description,
                "announced_at": now,
            },
        )
        if created:
            _event(draw, DrawEvent.Kind.ANNOUNCED, now, detail={"beacon": beacon.as_dict()})
            audit_record(
                actor=actor,
                action="draw.announced",
                target=draw,
                detail={"winners": winners, "beacon": beacon.as_dict()},
            )
    return draw


def draw_beacon_change(
    *,
    draw: Draw,
    beacon_source: str,
    beacon_round: int | None = None,
    beacon_description: str = "",
    actor: AbstractBaseUser | None,
    now: datetime | None = None,
) -> Draw:
    """Change the announced beacon; allowed only before entries close, and shown publicly."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Draw.objects.select_for_update(of=("self",))
            .defer("entrants_lines", "entrant_application_ids")
            .select_related("round")
            .get(pk=draw.pk)
        )
        if now >= locked.entries_close_at or locked.state != Draw.State.ANNOUNCED:
            raise DrawError(_("The beacon can only be changed before entries close."))
        old = beacon_of(locked).as_dict()
        beacon = _beacon_for_announcement(
            round=locked.round,
            beacon_source=beacon_source,
            beacon_round=beacon_round,
            beacon_description=beacon_description,
        )
        locked.beacon_source = beacon.source
        locked.beacon_chain_hash = beacon.chain_hash
        locked.beacon_round = beacon.round
        locked.beacon_description = beacon.description
        locked.save(
            update_fields=[
                "beacon_source",
                "beacon_chain_hash",
                "beacon_round",
                "beacon_description",
            ]
        )
        _event(
            locked,
            DrawEvent.Kind.BEACON_CHANGED,
            now,
            detail={"from": old, "to": beacon.as_dict()},
        )
        audit_record(
            actor=actor,
            action="draw.beacon_changed",
            target=locked,
            detail={"from": old, "to": beacon.as_dict()},
        )
    return locked


# --- freeze -------------------------------------------------------------------------------


def draw_needs_review_count(*, draw: Draw) -> int:
    return Application.objects.filter(
        round_id=draw.round_id, status=Application.Status.NEEDS_REVIEW
    ).count()


def draw_freeze(*, draw: Draw, now: datetime | None = None) -> bool:
    """At close: fix the entrants (eligible applications, by reference and stratum), publish
    them with their digest, and e-mail every entrant the digest with their reference.

    Returns False (and changes nothing) while applications still need review before the
    round's review deadline; after it, they are left out with a public count and reason.
    Idempotent: a frozen draw returns False."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Draw.objects.select_for_update(of=("self",)).select_related("round").get(pk=draw.pk)
        )
        if locked.state != Draw.State.ANNOUNCED:
            return False
        if now < locked.entries_close_at:
            raise DrawNotReadyError(_("Entries have not closed yet."))
        round = locked.round
        pending = draw_needs_review_count(draw=locked)
        if pending and (round.review_deadline is None or now < round.review_deadline):
            return False
        text, ids = _eligible_entrants(round)
        refs, strata = pure.entrants_from_text(text)  # every line checked, in one pass
        sorted_refs, strata = pure.sort_entrants(refs, strata)
        if sorted_refs is not refs:  # the database's order was not byte order: follow refs
            ids_by_ref = dict(zip(refs, ids, strict=True))
            ids = [ids_by_ref[r] for r in sorted_refs]
            text = pure.entrants_text(sorted_refs, strata)
        refs = sorted_refs
        digest = pure.text_digest(text)
        locked.entrants_lines = text
        locked.entrant_application_ids = ",".join(ids)
        # Entrants per stratum, for the fairness test (per day: draw_entrant_days_count).
        locked.entrant_counts = {"strata": dict(Counter(strata))}
        locked.entrants_digest = digest
        locked.entrants_count = len(refs)
        locked.excluded_count = pending
        locked.frozen_at = now
        locked.state = Draw.State.FROZEN
        locked.save()  # the freeze writes every published field at once
        if pending:
            _event(
                locked,
                DrawEvent.Kind.EXCLUDED,
                now,
                detail={
                    "count": pending,
                    "reason_en": EXCLUDED_REASON_EN,
                    "reason_zh": EXCLUDED_REASON_ZH,
                },
            )
        _event(
            locked,
            DrawEvent.Kind.ENTRANTS_PUBLISHED,
            now,
            detail={"count": len(refs), "entrants_digest": digest},
        )
        audit_record(
            actor=None,
            action="draw.entrants_frozen",
            target=locked,
            detail={"count": len(refs), "digest": digest, "excluded_under_review": pending},
        )
        draw_pk = locked.pk
        transaction.on_commit(lambda: _enqueue_entrants_notify(draw_pk))
        transaction.on_commit(lambda: _enqueue_entrant_days_count(draw_pk))
    return True


def _eligible_entrants(round: Round) -> tuple[str, list[str]]:
    """The round's eligible applications as an entrants text (``ref TAB stratum LF`` lines, as
    published) and their application ids (as text) in the same order: byte order of reference
    where the database can sort that way (the order is checked again in Python).

    On PostgreSQL the database joins each column into one text value: a million entrants
    arrive as two strings instead of a million row tuples built and unpacked, and the text is
    already the one to publish and hash."""
    eligible = Application.objects.filter(round=round, status=Application.Status.ELIGIBLE)
    columns = eligible.values_list("reference", "stratum", "id")
    if connection.vendor != "postgresql":
        rows = list(columns.order_by("reference"))
        text = pure.entrants_text([r[0] for r in rows], [r[1] for r in rows])
        return text, [str(r[2]) for r in rows]
    sql, params = columns.order_by(Collate("reference", "C")).query.sql_with_params()
    # One sort feeds both aggregates in the same pass, so line i and id i are the same
    # application.
    joined = (
        "SELECT string_agg(e.reference || E'\\t' || e.stratum, E'\\n'), "  # noqa: S608 - Django's SQL
        f"string_agg(e.id::text, ',') FROM ({sql}) AS e"
    )
    with connection.cursor() as cursor:
        # For this transaction only: sort a million references in memory rather than in
        # temporary files, and skip JIT compilation that costs more than it saves here.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(joined, params)
        lines, ids = cursor.fetchone()
    if not lines:
        return "", []
    # A tab or newline inside a value would shift the columns: entrants_from_text refuses it.
    return lines + "\n", ids.split(",")


def _enqueue_entrant_days_count(draw_pk: int) -> None:
    from lottery.tasks import draw_entrant_days_count_task

    draw_entrant_days_count_task.delay(draw_pk)


# Application ids per query when counting entrants per day without PostgreSQL: well under
# SQLite's limit on query parameters (32766).
DAYS_COUNT_BATCH = 5000


def _entrants_per_day(draw_pk: int) -> Counter[str]:
    """The draw's frozen entrant applications per local day of submission (ISO date: count)."""
    days: Counter[str] = Counter()
    if connection.vendor == "postgresql":
        # One join in the database, from the draw's own text of ids: about a second for a
        # million, where batches of ids sent from here took ten.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT (a.submitted_at AT TIME ZONE %s)::date, count(*) "
                "FROM lottery_draw d "
                "CROSS JOIN unnest(string_to_array(d.entrant_application_ids, ',')::bigint[]) "
                "AS f(id) JOIN applications_application a ON a.id = f.id "
                "WHERE d.id = %s GROUP BY 1",
                [timezone.get_current_timezone_name(), draw_pk],
            )
            for day, n in cursor.fetchall():
                days[day.isoformat()] += n
        return days
    ids_text = Draw.objects.values_list("entrant_application_ids", flat=True).get(pk=draw_pk)
    ids = ids_text.split(",") if ids_text else []
    for start in range(0, len(ids), DAYS_COUNT_BATCH):
        rows = (
            Application.objects.filter(id__in=ids[start : start + DAYS_COUNT_BATCH])
            .annotate(day=TruncDate("submitted_at"))
            .values("day")
            .annotate(n=Count("id"))
            .values_list("day", "n")
        )
        for day, n in rows:
            days[day.isoformat()] += n
    return days


def draw_entrant_days_count(*, draw: Draw) -> bool:
    """Count the frozen entrants per local day of submission (Draw.entrant_days), once.

    Runs after the freeze commits (a task, and the beat's safety net): from the frozen
    application ids, so the counts are of exactly the entrants whatever happens to the
    applications later. Returns False if already counted or not frozen yet."""
    state, entrants, counted = Draw.objects.values_list(
        "state", "entrants_count", "entrant_days"
    ).get(pk=draw.pk)
    if counted is not None or state == Draw.State.ANNOUNCED:
        return False
    days = _entrants_per_day(draw.pk)
    if sum(days.values()) != entrants:
        raise IntegrityError(
            f"draw {draw.pk}: {entrants - sum(days.values())} entrant applications are missing"
        )
    # Counted once: a second worker that counted at the same time writes nothing.
    written = Draw.objects.filter(pk=draw.pk, entrant_days__isnull=True).update(
        entrant_days=dict(sorted(days.items()))
    )
    if written:
        logger.info("draw %s: entrants per day counted (%d days)", draw.pk, len(days))
    return bool(written)


def _enqueue_entrants_notify(draw_pk: int) -> None:
    from lottery.tasks import draw_entrants_notify_task

    draw_entrants_notify_task.delay(draw_pk)


def _already_notified(kind: str, application_ids: Iterable[int]) -> set[int]:
    from notifications.models import Notification

    return {
        int(related_id)
        for related_id in Notification.objects.filter(
            kind=kind,
            related_type="applications.application",
            related_id__in=[str(i) for i in application_ids],
        ).values_list("related_id", flat=True)
    }


def draw_entrants_notify(*, draw: Draw, start: int = 0, batch: int | None = None) -> int | None:
    """E-mail the digest to one batch of entrants from position ``start`` of the frozen list;
    returns where the next batch starts, or None when all are done. Safe to repeat: entrants
    already sent this message are skipped."""
    batch = batch or settings.LOTTERY_NOTIFY_BATCH
    ids = draw.entrant_application_ids.split(",") if draw.entrant_application_ids else []
    chunk = [int(i) for i in ids[start : start + batch]]
    if not chunk:
        return None
    done = _already_notified("draw_entrants_digest", chunk)
    todo = [i for i in chunk if i not in done]
    with transaction.atomic():
        for application in Application.objects.filter(pk__in=todo).select_related("round"):
            notification_send(
                kind="draw_entrants_digest",
                to_email=application.email,
                language=application.language,
                context={
                    "application": application,
                    "draw": draw,
                    "draw_url": draw.get_absolute_url(),
                },
                related=application,
            )
    following = start + batch
    return following if following < len(ids) else None


# --- beacon -------------------------------------------------------------------------------


def draw_beacon_fetch(*, draw: Draw, now: datetime | None = None) -> bool:
    """Fetch and verify the drand round; True once the draw has its beacon value.

    A round that fails verification is recorded, alerts staff and is never stored."""
    now = now or timezone.now()
    draw = Draw.objects.get(pk=draw.pk)
    if draw.beacon_source != Draw.BeaconSource.DRAND:
        return draw.has_beacon_value
    if draw.has_beacon_value:
        return True
    if now < pure.drand_round_time(draw.beacon_round, draw.beacon_chain_hash):
        raise DrawNotReadyError(
            _("drand round %(round)s is not published yet.") % {"round": draw.beacon_round}
        )
    try:
        fetched = beacon_client.drand_fetch(
            base_url=settings.LOTTERY_DRAND_BASE_URL,
            chain_hash=draw.beacon_chain_hash,
            round_number=draw.beacon_round,
            timeout=settings.LOTTERY_BEACON_TIMEOUT_SECONDS,
            attempts=settings.LOTTERY_BEACON_ATTEMPTS,
            retry_wait=settings.LOTTERY_BEACON_RETRY_SECONDS,
        )
    except beacon_client.BeaconVerificationError as error:
        with transaction.atomic():
            locked = (
                Draw.objects.select_for_update()
                .defer("entrants_lines", "entrant_application_ids")
                .get(pk=draw.pk)
            )
            locked.beacon_problem = f"{now:%Y-%m-%dT%H:%M:%SZ} {error}"[:2000]
            locked.save(update_fields=["beacon_problem"])
            _event(locked, DrawEvent.Kind.BEACON_REJECTED, now, detail={"problem": str(error)})
            audit_record(
                actor=None,
                action="draw.beacon_rejected",
                target=locked,
                detail={"error": str(error)},
            )
            _staff_alert(draw=locked, problem=f"The beacon round failed verification: {error}")
        raise
    return _beacon_store(
        draw=draw,
        now=now,
        randomness=fetched.randomness,
        signature=fetched.signature,
        actor=None,
    )


def _beacon_store(
    *,
    draw: Draw,
    now: datetime,
    randomness: str = "",
    signature: str = "",
    value: str = "",
    actor: AbstractBaseUser | None,
) -> bool:
    with transaction.atomic():
        locked = (
            Draw.objects.select_for_update()
            .defer("entrants_lines", "entrant_application_ids")
            .get(pk=draw.pk)
        )
        if locked.has_beacon_value:
            return True
        locked.beacon_randomness = randomness
        locked.beacon_signature = signature
        locked.beacon_value = value
        locked.beacon_value_at = now
        locked.save(
            update_fields=[
                "beacon_randomness",
                "beacon_signature",
                "beacon_value",
                "beacon_value_at",
            ]
        )
        published = beacon_of(locked).as_dict()
        _event(locked, DrawEvent.Kind.BEACON_VALUE, now, detail={"beacon": published})
        audit_record(
            actor=actor, action="draw.beacon_value", target=locked, detail={"beacon": published}
        )
        draw_pk = locked.pk
        transaction.on_commit(lambda: _enqueue_execute(draw_pk))
    return True


def draw_declared_value_enter(
    *, draw: Draw, value: str, actor: AbstractBaseUser | None, now: datetime | None = None
) -> Draw:
    """Staff enter the value of the pre-announced public event, once, after entries close."""
    now = now or timezone.now()
    if draw.beacon_source != Draw.BeaconSource.DECLARED:
        raise DrawError(_("This draw uses the drand beacon; its value is fetched, not entered."))
    beacon = pure.validate_beacon(
        {"source": "declared", "description": draw.beacon_description, "value": value}
    )
    if now < draw.entries_close_at:
        raise DrawError(_("The value can only be entered after entries close."))
    current = Draw.objects.get(pk=draw.pk)
    if current.beacon_value:
        raise DrawError(_("The declared value has already been entered; it cannot be changed."))
    _beacon_store(draw=current, now=now, value=beacon.value or "", actor=actor)
    return Draw.objects.get(pk=draw.pk)


def _enqueue_execute(draw_pk: int) -> None:
    from lottery.tasks import draw_execute_task

    draw_execute_task.delay(draw_pk)


# --- execute ------------------------------------------------------------------------------


def _cross_check(
    *,
    draw: Draw,
    refs: list[str],
    strata: list[str],
    beacon_line: str,
    quotas: dict[str, pure.Quota],
    result: pure.DrawResult,
) -> None:
    """Recompute with the standalone verifier's independent code; raise on any difference."""
    problems = []
    digest = independent.digest_of(refs, strata)
    if digest != draw.entrants_digest or digest != result.entrants_digest:
        problems.append("entrants digest")
    seed = independent.seed_of(draw.draw_id, digest, beacon_line)
    if seed != result.seed:
        problems.append("seed")
    if independent.tickets_of(seed, result.refs) != result.tickets:
        problems.append("tickets")
    tickets = result.tickets
    # Strictly increasing tickets is the common case, checked in C; equal tickets (never seen
    # in practice) fall back to comparing references.
    strictly_increasing = all(map(operator.lt, tickets, tickets[1:]))
    if not strictly_increasing and not all(
        a < b or (a == b and ra < rb)
        for a, b, ra, rb in zip(tickets, tickets[1:], result.refs, result.refs[1:], strict=False)
    ):
        problems.append("rank order")
    # Every result names an entrant, with that entrant's stratum, and none twice. The set
    # comparison per stratum is the fast way; when it cannot say yes (a difference, or too
    # many strata for it), compare row by row to name what differs.
    if not independent.same_entrants(refs, strata, result.refs, result.strata):
        stratum_of = dict(zip(refs, strata, strict=True))
        listed_strata = list(map(stratum_of.get, result.refs))
        if (
            len(result.refs) != len(refs)
            or None in listed_strata
            or len(set(result.refs)) != len(refs)
        ):
            problems.append("results are not exactly the entrants")
        elif listed_strata != list(result.strata):
            problems.append("strata")
    plain_quotas = {s: (q.reserved, q.cap) for s, q in quotas.items()}
    chosen = independent.outcomes_of(result.strata, draw.winners, plain_quotas)
    if [1 if c else 0 for c in chosen] != list(result.winner_flags):
        problems.append("outcomes")
    if problems:
        raise FairnessCheckError(
            "The draw disagrees with the independent recomputation on: " + ", ".join(problems)
        )


# A million entrants take the recomputation under a minute; far beyond that, it has hung.
CROSS_CHECK_TIMEOUT_SECONDS = 1800


def _cross_check_against(
    recomputation: cross_check.Recomputation, ranking_sha256: str, **compared: Any
) -> None:
    """Raise unless the independent recomputation made exactly the ranking text stored.
    On a difference (or if its process failed) compare in this process, column by column,
    to name what differs."""
    answer = recomputation.result()
    draw, result = compared["draw"], compared["result"]
    if answer is None:
        logger.warning(
            "draw %s: the recomputation process failed, checking here: %s",
            draw.draw_id,
            recomputation.error(),
        )
        _cross_check(**compared)
        return
    if answer == {
        "entrants_digest": draw.entrants_digest,
        "seed": result.seed,
        "ranking_sha256": ranking_sha256,
        "winners": sum(result.winner_flags),
    }:
        return
    _cross_check(**compared)  # raises, naming what differs, when the columns differ
    raise FairnessCheckError(
        "The stored ranking text differs from the independent recomputation "
        "(application ids or layout)."
    )


def _insert_results(
    draw: Draw,
    result: pure.DrawResult,
    ranked_ids: list[str],
    while_inserting: Callable[[str], None],
) -> None:
    """Store every entrant's result as the ranking blocks, and an entry for each winner
    (``ranked_ids``: application ids in rank order). ``while_inserting`` gets the SHA-256 of
    the blocks' text and must raise if it is not what the independent recomputation made. On
    PostgreSQL the blocks stream through COPY from a writer thread, so the database stores
    them while ``while_inserting`` waits; the transaction commits only after both."""
    blocks = list(
        ranking.blocks_text(
            result.refs,
            result.strata,
            result.tickets,
            ranked_ids,
            result.waitlist_positions,
            RANKING_BLOCK,
        )
    )
    hasher = hashlib.sha256()
    for _first, _last, _ticket, lines in blocks:
        hasher.update(lines.encode())
    if connection.vendor == "postgresql":
        from psycopg.copy import QueuedLibpqWriter

        with connection.cursor() as cursor:
            raw = cursor.cursor  # the psycopg cursor: COPY is the fast path for the blocks
            # Binary: the lines go as they are. In text format every tab and newline in them
            # (seven per entrant) is escaped here and unescaped by the server.
            with raw.copy(
                "COPY lottery_drawranking (draw_id, first_rank, last_rank, first_ticket, lines) "
                "FROM STDIN (FORMAT BINARY)",
                writer=QueuedLibpqWriter(raw),
            ) as copy:
                copy.set_types(["bigint", "integer", "integer", "varchar", "text"])
                for first, last, first_ticket, lines in blocks:
                    copy.write_row((draw.pk, first, last, first_ticket, lines))
                while_inserting(hasher.hexdigest())
    else:
        while_inserting(hasher.hexdigest())  # no overlap to gain: check before writing
        DrawRanking.objects.bulk_create(
            (
                DrawRanking(
                    draw=draw, first_rank=first, last_rank=last, first_ticket=ticket, lines=lines
                )
                for first, last, ticket, lines in blocks
            ),
            batch_size=100,
        )
    winners = compress(range(len(result)), result.winner_flags)
    DrawEntry.objects.bulk_create(
        (
            DrawEntry(
                draw=draw,
                application_id=int(ranked_ids[i]),
                reference=result.refs[i],
                stratum=result.strata[i],
                ticket=result.tickets[i],
                rank=i + 1,
                drawn_outcome=DrawEntry.Outcome.WINNER,
                waitlist_position=None,
                outcome=DrawEntry.Outcome.WINNER,
            )
            for i in winners
        ),
        batch_size=2000,
    )


def draw_execute(*, draw: Draw, now: datetime | None = None) -> Draw:
    """Run the draw: compute per the spec, cross-check independently, store every entrant's
    ticket, rank and outcome, and mark the draw complete, in one transaction.

    Idempotent and safe under concurrency: the draw row is locked, a completed draw is
    returned unchanged, and the database refuses a second result set (unique first rank of a
    ranking block and unique rank of an entry per draw, triggers). A worker killed half-way
    leaves nothing behind, its recomputation process included (it writes nothing)."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            locked = Draw.objects.select_for_update().get(pk=draw.pk)
            if locked.state == Draw.State.COMPLETED:
                return locked
            if locked.state != Draw.State.FROZEN:
                raise DrawNotReadyError(_("The entrants have not been frozen yet."))
            if not locked.has_beacon_value:
                raise DrawNotReadyError(_("The beacon value is not known yet."))
            refs, strata = entrants_of(locked)  # checked whole as they are read
            quotas = quotas_of(locked)
            beacon = pure.validate_beacon(beacon_of(locked))
            # The independent recomputation starts now, in a process of its own, and is
            # awaited only once this process has computed and stored its own result.
            recomputation = cross_check.Recomputation(
                {
                    "draw_id": locked.draw_id,
                    "winners": locked.winners,
                    "quotas": {s: [q.reserved, q.cap] for s, q in quotas.items()},
                    "beacon_line": beacon.line(),
                    "block": RANKING_BLOCK,
                },
                locked.entrants_lines,
                locked.entrant_application_ids,
                timeout=CROSS_CHECK_TIMEOUT_SECONDS,
            )
            data = pure.DrawInput(
                locked.draw_id, locked.winners, quotas, refs, strata, beacon, locked.entrants_lines
            )
            result = pure.run_draw(data)
            ids = locked.entrant_application_ids.split(",") if refs else []
            if len(ids) != len(refs):
                raise FairnessCheckError("The frozen application ids do not match the entrants.")
            ranked_ids = list(map(ids.__getitem__, result.order))

            def same_as_recomputed(ranking_sha256: str) -> None:
                _cross_check_against(
                    recomputation,
                    ranking_sha256,
                    draw=locked,
                    refs=refs,
                    strata=strata,
                    beacon_line=beacon.line(),
                    quotas=quotas,
                    result=result,
                )

            # Nothing is visible to anyone until the commit below, which happens only if the
            # independent recomputation agrees (a disagreement rolls the insert back).
            _insert_results(locked, result, ranked_ids, while_inserting=same_as_recomputed)
            locked.seed = result.seed
            locked.winners_drawn = sum(result.winner_flags)
            locked.state = Draw.State.COMPLETED
            locked.completed_at = now
            locked.save(update_fields=["seed", "winners_drawn", "state", "completed_at"])
            _event(
                locked,
                DrawEvent.Kind.RESULTS_PUBLISHED,
                now,
                detail={"seed": result.seed, "winners": locked.winners_drawn},
            )
            audit_record(
                actor=None,
                action="draw.executed",
                target=locked,
                detail={
                    "seed": result.seed,
                    "entrants": len(refs),
                    "winners": locked.winners_drawn,
                },
            )
            draw_pk = locked.pk
            transaction.on_commit(lambda: _enqueue_results_notify(draw_pk))
    except FairnessCheckError as error:
        with transaction.atomic():
            failed = Draw.objects.get(pk=draw.pk)
            audit_record(
                actor=None,
                action="draw.fairness_check_failed",
                target=failed,
                detail={"error": str(error)},
            )
            _staff_alert(draw=failed, problem=str(error))
        raise
    return locked


def _enqueue_results_notify(draw_pk: int) -> None:
    from lottery.tasks import draw_results_notify_task

    draw_results_notify_task.delay(draw_pk)


def draw_results_notify(*, draw: Draw, after_rank: int = 0, batch: int | None = None) -> int | None:
    """E-mail their result to the entrants ranked after ``after_rank``, one batch; returns the
    last rank done, or None when all are done. Safe to repeat."""
    from applications.services import status_url_for

    batch = batch or settings.LOTTERY_NOTIFY_BATCH
    entries = selectors.ranked_entries(draw=draw, first=after_rank + 1, last=after_rank + batch)
    if not entries:
        return None
    done = _already_notified("draw_result", [e.application_id for e in entries])
    applications = Application.objects.select_related("round").in_bulk(
        [e.application_id for e in entries if e.application_id not in done]
    )
    with transaction.atomic():
        for entry in entries:
            if entry.application_id in done:
                continue
            application = applications[entry.application_id]
            notification_send(
                kind="draw_result",
                to_email=application.email,
                language=application.language,
                context={
                    "application": application,
                    "entry": entry,
                    "draw_url": draw.get_absolute_url(),
                    "status_url": status_url_for(application),
                },
                related=application,
            )
    return entries[-1].rank if len(entries) == batch else None


# --- withdrawals and promotions -------------------------------------------------------------


def entry_withdraw(
    *,
    entry: DrawEntry,
    reason: str,
    actor: AbstractBaseUser | None = None,
    note: str = "",
    now: datetime | None = None,
) -> DrawEntry | None:
    """A winner (or waitlisted entrant) leaves: the withdrawal and, for a winner, the
    promotion the spec requires are appended to the public record, and the promoted entrant
    is notified. Returns the promoted entry (None if nobody qualifies or it was a waitlisted
    entrant). Idempotent: an entry already withdrawn changes nothing and returns None."""
    if reason not in pure.WITHDRAWAL_REASONS:
        raise DrawError(f"reason must be one of {', '.join(pure.WITHDRAWAL_REASONS)}")
    if reason == "disqualified" and actor is not None and not note.strip():
        raise DrawError(_("A disqualification needs a reason."))
    now = now or timezone.now()
    with transaction.atomic():
        # One withdrawal at a time per draw, so two vacancies never pick the same entrant.
        draw = (
            Draw.objects.select_for_update()
            .defer("entrants_lines", "entrant_application_ids")
            .get(pk=entry.draw_id)
        )
        if draw.state != Draw.State.COMPLETED:
            raise DrawError(_("Only a completed draw has entries to withdraw."))
        locked = _entry_kept(draw, entry)
        if locked.outcome == DrawEntry.Outcome.WITHDRAWN:
            return None
        was_winner = locked.outcome == DrawEntry.Outcome.WINNER
        locked.outcome = DrawEntry.Outcome.WITHDRAWN
        locked.withdrawn_at = now
        locked.withdrawal_reason = reason
        locked.save(update_fields=["outcome", "withdrawn_at", "withdrawal_reason"])
        _event(draw, DrawEvent.Kind.WITHDRAWAL, now, entry=locked, reason=reason)
        audit_record(
            actor=actor,
            action="draw.entry_withdrawn",
            target=locked,
            detail={"reason": reason, "note": note, "was_winner": was_winner},
        )
        if not was_winner:
            return None
        promoted = _promote(draw=draw, vacated=locked, now=now, actor=actor)
    return promoted


def _entry_kept(draw: Draw, entry: DrawEntry) -> DrawEntry:
    """The saved, locked entry of an entrant: a waitlisted entrant's result is only their
    ranking line until it changes, and is kept as an entry (as drawn) from then on. The caller
    holds the draw's lock and saves the change."""
    if entry.pk is not None:
        return DrawEntry.objects.select_for_update().get(pk=entry.pk)
    kept = DrawEntry.objects.select_for_update().filter(draw=draw, rank=entry.rank).first()
    if kept is not None:
        return kept
    line = selectors.ranked_lines(draw=draw, first=entry.rank, last=entry.rank)
    if not line or line[0].reference != entry.reference:
        raise DrawError(_("No such entrant in this draw."))
    kept = selectors.entry_from_line(draw, line[0])
    kept.save(force_insert=True)
    return kept


def _waitlist_candidates(draw: Draw) -> Iterable[tuple[str, str, int]]:
    """(ref, stratum, rank) of the entrants still on the waitlist, in rank order: the
    published waitlist lines less those whose kept entry says they left or moved up."""
    moved = set(
        DrawEntry.objects.filter(draw=draw, drawn_outcome=DrawEntry.Outcome.WAITLIST)
        .exclude(outcome=DrawEntry.Outcome.WAITLIST)
        .values_list("rank", flat=True)
    )
    for ref, stratum, _ticket, rank, outcome, _position in selectors.draw_result_rows(draw=draw):
        if outcome == DrawEntry.Outcome.WAITLIST and rank not in moved:
            yield ref, stratum, rank


def _promote(
    *, draw: Draw, vacated: DrawEntry, now: datetime, actor: AbstractBaseUser | None
) -> DrawEntry | None:
    entries = DrawEntry.objects.filter(draw=draw)
    counts = dict(
        entries.filter(outcome=DrawEntry.Outcome.WINNER)
        .values_list("stratum")
        .annotate(n=Count("id"))
        .values_list("stratum", "n")
    )
    rank_of: dict[str, int] = {}

    def candidates():
        for ref, stratum, rank in _waitlist_candidates(draw):
            rank_of[ref] = rank
            yield ref, stratum

    pick = pure.promotion_pick(
        withdrawn_stratum=vacated.stratum,
        winner_counts=counts,
        quotas=quotas_of(draw),
        candidates=candidates(),
    )
    if pick is None:
        return None
    promoted = _entry_kept(draw, DrawEntry(draw=draw, reference=pick[0], rank=rank_of[pick[0]]))
    promoted.outcome = DrawEntry.Outcome.WINNER
    promoted.promoted_at = now
    promoted.save(update_fields=["outcome", "promoted_at"])
    _event(draw, DrawEvent.Kind.PROMOTION, now, entry=promoted, replaces=vacated)
    audit_record(
        actor=actor,
        action="draw.entry_promoted",
        target=promoted,
        detail={"replaces": vacated.reference},
    )
    from applications.services import status_url_for

    application = promoted.application
    notification_send(
        kind="waitlist_promoted",
        to_email=application.email,
        language=application.language,
        context={
            "application": application,
            "entry": promoted,
            "draw_url": draw.get_absolute_url(),
            "status_url": status_url_for(application),
        },
        related=application,
    )
    return promoted


# --- the schedule ---------------------------------------------------------------------------


def draws_advance(*, now: datetime | None = None) -> dict[str, int]:
    """What the beat runs every minute: announce draws of opened rounds, and enqueue the
    freeze, beacon and execute steps that are due. Each step is its own idempotent task."""
    from lottery import tasks

    now = now or timezone.now()
    counts = {"announced": 0, "freeze": 0, "beacon": 0, "execute": 0, "days": 0}
    for round in Round.objects.filter(opens_at__lte=now, draw__isnull=True):
        try:
            draw_announce(round=round, now=now)
            counts["announced"] += 1
        except pure.DrawInputError as error:
            logger.error("round %s: draw not announced: %s", round.code, error)
    due = Draw.objects.exclude(state=Draw.State.COMPLETED).filter(entries_close_at__lte=now)
    rows = due.values_list(
        "pk",
        "state",
        "beacon_source",
        "beacon_randomness",
        "beacon_value",
        "beacon_round",
        "beacon_chain_hash",
        "beacon_problem",
    )
    for draw_pk, state, source, randomness, value, beacon_round, chain, problem in rows:
        if state == Draw.State.ANNOUNCED:
            transaction.on_commit(lambda pk=draw_pk: tasks.draw_freeze_task.delay(pk))
            counts["freeze"] += 1
        elif randomness or value:
            transaction.on_commit(lambda pk=draw_pk: tasks.draw_execute_task.delay(pk))
            counts["execute"] += 1
        elif (
            source == Draw.BeaconSource.DRAND
            and not problem  # a round that failed verification waits for staff to retry
            and now >= pure.drand_round_time(beacon_round, chain)
        ):
            transaction.on_commit(lambda pk=draw_pk: tasks.draw_beacon_task.delay(pk))
            counts["beacon"] += 1
    # The freeze enqueues the count of entrants per day as it commits; should that task be
    # lost (a broker outage at that moment), this picks the draw up again.
    uncounted = Draw.objects.exclude(state=Draw.State.ANNOUNCED).filter(entrant_days__isnull=True)
    for draw_pk in uncounted.values_list("pk", flat=True):
        transaction.on_commit(lambda pk=draw_pk: tasks.draw_entrant_days_count_task.delay(pk))
        counts["days"] += 1
    return counts
