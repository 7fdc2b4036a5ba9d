"""Reads for letters: the facts a letter prints, and the lookups behind verification and download."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db.models import QuerySet

from letters.content import LETTER_SCHEMA, canonical_facts, milestone_labels
from letters.models import GrantLetter


def grant_display_id(grant) -> str:
    return f"G-{grant.pk}"


def letter_facts_for_grant(*, grant, verification_code: str, issued_on: date) -> dict:
    """Everything the letter prints, as JSON-native data (stored with the letter, fingerprinted)."""
    application = grant.application
    round_ = application.round
    program = round_.program
    center = grant.center
    # Contract: Grant.draw_entry (null for a grant made outside a draw). Read defensively so a
    # letter can still be issued on a tree where grants does not link draws yet.
    entry = getattr(grant, "draw_entry", None)
    draw = None
    if entry is not None:
        draw_id = entry.draw.draw_id
        # The contract's public draw page; language-neutral, LocaleMiddleware picks the language.
        draw = {
            "draw_id": draw_id,
            "rank": entry.rank,
            "url": f"{settings.SITE_URL}/draws/{draw_id}/",
        }
    tranches = []
    for tranche in grant.tranches.select_related("commitment").order_by("number"):
        commitment = tranche.commitment
        kind = commitment.kind if commitment is not None else "acceptance"
        label_zh, label_en = milestone_labels(kind)
        tranches.append(
            {
                "number": tranche.number,
                "amount": tranche.amount,
                "state": tranche.state,
                "milestone_kind": kind,
                "milestone_zh": label_zh,
                "milestone_en": label_en,
                "target_date": commitment.target_date
                if commitment is not None
                else grant.valid_from,
            }
        )
    facts = {
        "schema": LETTER_SCHEMA,
        "kind": "revocation" if grant.status == "revoked" else "grant",
        "grant_id": grant_display_id(grant),
        "version": grant.version,
        "issued_on": issued_on,
        "verification_code": verification_code,
        "program": {
            "code": program.code,
            "name_zh": program.name_zh,
            "name_en": program.name_en,
            "city_zh": program.city_zh,
            "city_en": program.city_en,
            "contact_email": program.contact_email,
        },
        "round": {"code": round_.code, "title_zh": round_.title_zh, "title_en": round_.title_en},
        "grantee": {
            "legal_name": application.company_legal_name,
            "uscc": application.uscc,
            "application_reference": application.reference,
        },
        "center": {
            "code": center.code,
            "name_zh": center.name_zh,
            "name_en": center.name_en,
            "city_zh": center.city_zh,
            "city_en": center.city_en,
        },
        "gpu_type": {"code": grant.gpu_type.code, "name": grant.gpu_type.name},
        "amount": grant.amount,
        "unit": grant.unit,
        "valid_from": grant.valid_from,
        "expires_at": grant.expires_at,
        "tranches": tranches,
        "draw": draw,
    }
    return canonical_facts(facts)


def letter_by_code(*, code: str) -> GrantLetter | None:
    return (
        GrantLetter.objects.select_related("grant")
        .filter(verification_code=code)
        .exclude(state=GrantLetter.State.PENDING)
        .first()
    )


def letters_with_sha256(*, sha256: str) -> QuerySet[GrantLetter]:
    return (
        GrantLetter.objects.select_related("grant")
        .filter(sha256=sha256)
        .exclude(state=GrantLetter.State.PENDING)
        .order_by("grant_id", "version")
    )


def grant_latest_letter(*, grant_id: int) -> GrantLetter | None:
    """The newest issued version of a grant's letter (the one that prevails)."""
    return (
        GrantLetter.objects.filter(grant_id=grant_id)
        .exclude(state=GrantLetter.State.PENDING)
        .order_by("-version")
        .first()
    )


def letters_for_application(*, application) -> QuerySet[GrantLetter]:
    """Every letter of every grant of the application, newest first (pending ones included)."""
    return GrantLetter.objects.filter(grant__application=application).order_by(
        "-grant_id", "-version"
    )
