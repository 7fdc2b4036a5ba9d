import time
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from centers.models import Center

from .models import Application, Round

# How long one process answers from the rounds and centers it read (see offer_read): a staff edit
# made in another process (withdrawing a center, renaming a round) shows there within this time.
OFFER_MAX_AGE_SECONDS = 2.0


def rounds_open() -> QuerySet[Round]:
    now = timezone.now()
    return Round.objects.filter(opens_at__lte=now, closes_at__gt=now).select_related("program")


@dataclass(frozen=True)
class Offer:
    """What the application form offers, as read at one moment: the rounds not yet closed (in the
    form's order, with their program, and their strata once their rules have frozen) and the
    active centers. Shared by every request of the process: read it, never change its rows."""

    rounds: tuple[Round, ...]
    centers: tuple[Center, ...]
    read_at: float  # time.monotonic()

    def rounds_open(self, now: datetime | None = None) -> list[Round]:
        """The rounds open at `now`, by the clock of this request: a round closes (and opens) at
        its exact second whenever the offer was read."""
        now = now or timezone.now()
        return [item for item in self.rounds if item.opens_at <= now < item.closes_at]


def offer_load() -> Offer:
    """The rounds and centers the form offers, from the database (three queries)."""
    now = timezone.now()
    rounds = tuple(
        Round.objects.filter(closes_at__gt=now)
        .select_related("program")
        .prefetch_related("strata")
        .order_by("closes_at", "code")
    )
    for item in rounds:
        if item.opens_at > now:
            # Staff may still change the strata of a round that has not opened (its rules freeze
            # when it opens): the submission reads them then, not from this copy.
            item._prefetched_objects_cache.pop("strata", None)
    centers = tuple(Center.objects.filter(is_active=True).order_by("code"))
    return Offer(rounds=rounds, centers=centers, read_at=time.monotonic())


_offer: Offer | None = None


def offer_read() -> Offer:
    """The form's rounds and centers, read again at most every OFFER_MAX_AGE_SECONDS.

    Each form POST, check page and submission validated the round and centers against the
    database: two queries per request, a fifth of each request's time at the deadline, for rows
    that change a few times a round. A change saved in this process is seen on the next request
    (apps.py forgets the offer on every save); other processes see it within the age limit."""
    global _offer
    offer = _offer
    if offer is None or time.monotonic() - offer.read_at > OFFER_MAX_AGE_SECONDS:
        offer = _offer = offer_load()
    return offer


def offer_forget(**_signal) -> None:
    """Read the rounds and centers again on the next request (a signal receiver too)."""
    global _offer
    _offer = None


def application_by_reference(*, reference: str) -> Application | None:
    return Application.objects.filter(reference=reference.strip().upper()).first()


def application_of_company(*, round: Round, uscc: str) -> Application | None:
    """The company's application in this round, if it has applied (one per company per round).
    Most founders have not: the first query reads one column, cheap to build at the deadline."""
    found = Application.objects.filter(round=round, uscc=uscc).values_list("pk", flat=True)[:1]
    if not found:
        return None
    return Application.objects.select_related("round__program").get(pk=found[0])


@dataclass(frozen=True)
class Confirmed:
    """What the confirmation page shows of an application."""

    reference: str
    email: str
    round: Round


def application_confirmed(*, reference: str) -> Confirmed | None:
    """The application just sent, for its confirmation page: two of its columns, and its round
    from the form's offer while the round is open (the page shows the round as the form did).
    The whole application with its round and program took three times as long to ask for."""
    found = Application.objects.filter(reference=reference).values_list("email", "round_id")[:1]
    if not found:
        return None
    email, round_id = found[0]
    round_ = next((item for item in offer_read().rounds if item.pk == round_id), None)
    if round_ is None:  # closed since (a bookmarked confirmation)
        round_ = Round.objects.select_related("program").get(pk=round_id)
    return Confirmed(reference=reference, email=email, round=round_)


def application_by_id(*, application_id: int) -> Application | None:
    return Application.objects.filter(pk=application_id).first()
