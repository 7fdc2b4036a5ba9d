"""Business actions on rounds and applications. The form view, the API, admin actions, the demo
and the tasks all call these functions; nothing else changes an application's state."""

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation

from core.services import audit_record
from notifications.services import notification_send

from . import eligibility
from .company_names import company_name_key
from .models import Application, Commitment, PreferredCenter, Round, Stratum, size_band_for

STATUS_LINK_SALT = "suanli.applications.status-link"
# Crockford-like alphabet without I, L, O, U: read aloud and typed from paper without confusion.
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class ApplicationError(Exception):
    """A submission or change that the rules refuse; `message` is safe to show the user."""


class DuplicateApplication(ApplicationError):
    def __init__(self, existing: Application):
        super().__init__("duplicate")
        self.existing = existing


class RoundNotOpen(ApplicationError):
    pass


class RoundRulesFrozen(ApplicationError):
    pass


@dataclass(frozen=True)
class CommitmentInput:
    kind: str
    target_date: date


def reference_generate(*, round: Round) -> str:
    """A public, non-sequential, unguessable reference, e.g. WH26-7KQ3-M9XP (60 random bits)."""
    prefix = (round.program.code[:2] + str(round.opens_at.year)[-2:]).upper()
    body = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(12))
    return f"{prefix}-{body[:4]}-{body[4:8]}-{body[8:]}"


def stratum_for(*, round: Round, registration_city: str, employees: int) -> str:
    band = size_band_for(employees)
    for stratum in round.strata.all():
        if (stratum.match_cities and registration_city in stratum.match_cities) or (
            stratum.match_size_bands and band in stratum.match_size_bands
        ):
            return stratum.code
    return ""


def round_rules(round: Round) -> eligibility.Rules:
    return eligibility.Rules(
        max_employees=round.max_employees,
        max_company_age_years=round.max_company_age_years,
        eligible_cities=tuple(round.eligible_cities or ()),
    )


def application_submit(
    *,
    round: Round,
    company_legal_name: str,
    uscc: str,
    registration_city: str,
    founded_on: date,
    employees: int,
    revenue_band: str,
    website: str,
    founder_name: str,
    email: str,
    mobile: str,
    preferred_centers: list[Any],
    gpu_hours_requested: int,
    purpose: str,
    commitments: list[CommitmentInput],
    consent_terms: bool,
    consent_publish_name: bool,
    language: str,
    now: Any = None,
) -> Application:
    """Create an application from validated input, apply the round's rules, and e-mail the
    founder the reference and a signed status link. Raises DuplicateApplication if the company
    already applied in this round (the database constraint decides, also under a race)."""
    now = now or timezone.now()
    if not (round.opens_at <= now < round.closes_at):
        raise RoundNotOpen("round is not open")
    # No look for an existing application first: the unique constraint on (round, USCC) refuses
    # the second one (caught below), and the form already looked when the founder continued.
    # An indexed key instead of reading every name in the round on each submission.
    name_key = company_name_key(company_legal_name)
    similar_name = Application.objects.filter(round=round, company_name_key=name_key).exists()
    outcome = eligibility.assess(
        facts=eligibility.Facts(
            employees=employees,
            founded_on=founded_on,
            registration_city=registration_city,
            similar_name_in_round=similar_name,
        ),
        rules=round_rules(round),
        today=timezone.localdate(now),
    )
    try:
        with transaction.atomic():
            application = Application.objects.create(
                reference=reference_generate(round=round),
                round=round,
                company_legal_name=company_legal_name,
                company_name_key=name_key,
                uscc=uscc,
                registration_city=registration_city,
                founded_on=founded_on,
                employees=employees,
                revenue_band=revenue_band,
                website=website,
                founder_name=founder_name,
                email=email,
                mobile=mobile,
                gpu_hours_requested=gpu_hours_requested,
                purpose=purpose,
                consent_terms=consent_terms,
                consent_publish_name=consent_publish_name,
                language=language,
                status=outcome.status,
                stratum=stratum_for(
                    round=round, registration_city=registration_city, employees=employees
                ),
                eligibility_rule=outcome.rule,
                eligibility_reason_zh=outcome.reason_zh,
                eligibility_reason_en=outcome.reason_en,
                submitted_at=now,
            )
            PreferredCenter.objects.bulk_create(
                PreferredCenter(application=application, center=center, position=position)
                for position, center in enumerate(preferred_centers, start=1)
            )
            Commitment.objects.bulk_create(
                Commitment(application=application, kind=c.kind, target_date=c.target_date)
                for c in commitments
            )
            audit_record(
                actor=None,
                actor_label="founder",
                action="application.submitted",
                target=application,
                detail={"status": outcome.status, "rule": outcome.rule},
            )
            notification_send(
                kind="application_received",
                to_email=email,
                language=language,
                context={"application": application, "status_url": status_url_for(application)},
                related=application,
            )
    except IntegrityError:
        # Two submissions at the same instant: the constraint let exactly one through.
        existing = Application.objects.filter(round=round, uscc=uscc).first()
        if existing is None:
            raise
        raise DuplicateApplication(existing) from None
    return application


def status_token_make(application: Application) -> str:
    return signing.dumps({"ref": application.reference}, salt=STATUS_LINK_SALT, compress=True)


def status_token_reference(token: str) -> str | None:
    """The reference a status token names, or None if the token is tampered or expired."""
    try:
        data = signing.loads(
            token, salt=STATUS_LINK_SALT, max_age=settings.STATUS_LINK_MAX_AGE_DAYS * 86400
        )
    except signing.BadSignature:  # includes SignatureExpired
        return None
    return data.get("ref")


def status_token_read(token: str) -> Application | None:
    """The application a status token opens, or None if the token is tampered or expired."""
    reference = status_token_reference(token)
    if reference is None:
        return None
    # Every page a token opens shows the round and its program.
    return Application.objects.filter(reference=reference).select_related("round__program").first()


def status_link_for(application: Application) -> str:
    """Path of the founder's private status page, in the founder's language."""
    with translation.override(application.language):
        return reverse("applications:status", kwargs={"token": status_token_make(application)})


def status_url_for(application: Application) -> str:
    return settings.SITE_URL + status_link_for(application)


def status_link_send(*, application: Application) -> None:
    """E-mail a fresh status link to the address on file (never to an address given now)."""
    notification_send(
        kind="status_link",
        to_email=application.email,
        language=application.language,
        context={"application": application, "status_url": status_url_for(application)},
        related=application,
    )


def status_link_resend(*, reference: str, email: str) -> bool:
    """Send a fresh status link if reference and e-mail match. The caller shows the same answer
    either way, so the form can't be used to learn which references exist."""
    application = Application.objects.filter(
        reference=reference.strip().upper(), email__iexact=email.strip()
    ).first()
    if application is None:
        return False
    status_link_send(application=application)
    return True


def application_withdraw(*, application: Application) -> Application:
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application.pk)
        if application.status == Application.Status.WITHDRAWN:
            return application
        if application.round.is_closed:
            raise ApplicationError("closed")
        previous = application.status
        application.status = Application.Status.WITHDRAWN
        application.withdrawn_at = timezone.now()
        application.save(update_fields=["status", "withdrawn_at"])
        audit_record(
            actor=None,
            actor_label="founder",
            action="application.withdrawn",
            target=application,
            detail={"previous_status": previous},
        )
    return application


def application_decide(
    *, application: Application, status: str, reason: str, actor: AbstractBaseUser
) -> Application:
    """Staff decide eligibility (usually of a needs_review case). The reason is shown to the
    founder in the language staff wrote it, under both language labels."""
    allowed = {Application.Status.ELIGIBLE, Application.Status.INELIGIBLE}
    if status not in allowed:
        raise ApplicationError("status")
    if not reason.strip():
        raise ApplicationError("reason")
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application.pk)
        if application.status == Application.Status.WITHDRAWN:
            raise ApplicationError("withdrawn")
        if hasattr(application.round, "draw") and getattr(
            application.round.draw, "entrants_digest", ""
        ):
            raise ApplicationError("frozen")
        previous = application.status
        application.status = status
        application.eligibility_rule = "staff_decision"
        application.eligibility_reason_zh = reason.strip()
        application.eligibility_reason_en = reason.strip()
        application.decided_by = actor
        application.decided_at = timezone.now()
        application._change_reason = reason.strip()
        application.save()
        audit_record(
            actor=actor,
            action="application.eligibility_decided",
            target=application,
            detail={"from": previous, "to": status, "reason": reason.strip()},
        )
        notification_send(
            kind="eligibility_decided",
            to_email=application.email,
            language=application.language,
            context={"application": application, "status_url": status_url_for(application)},
            related=application,
        )
    return application


ROUND_RULE_FIELDS = [
    "opens_at",
    "closes_at",
    "winners",
    "max_employees",
    "max_company_age_years",
    "eligible_cities",
    "grant_min_gpu_hours",
    "grant_max_gpu_hours",
]


def round_rules_changed_after_opening(*, round: Round) -> list[str]:
    """Rule fields that differ from the stored round, if the stored round has already opened."""
    if round.pk is None:
        return []
    stored = Round.objects.get(pk=round.pk)
    if not stored.rules_frozen:
        return []
    return [f for f in ROUND_RULE_FIELDS if getattr(stored, f) != getattr(round, f)]


def stratum_changes_refused(*, stratum: Stratum) -> bool:
    return stratum.round.rules_frozen
