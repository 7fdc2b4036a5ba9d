"""Business actions for letters: schedule a grant's letter, render it once, check an upload."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.services import audit_record
from letters.content import content_fingerprint, file_sha256, verification_code_new
from letters.documents import grant_letter_pdf
from letters.models import GrantLetter
from letters.selectors import grant_display_id, letter_facts_for_grant, letters_with_sha256

logger = logging.getLogger(__name__)


def letter_schedule(*, grant) -> GrantLetter:
    """Record the letter for the grant's current version and render it after commit.

    Call it inside the transaction that accepts, amends or revokes the grant, after the grant's
    `version` and tranches are updated: the facts printed on the letter are taken now, so the
    letter says what was true when the change was made even if the worker runs later. Calling it
    again for the same version changes nothing (one letter per grant and version).
    """
    from letters.tasks import letter_render_task

    with transaction.atomic():
        letter = GrantLetter.objects.filter(grant=grant, version=grant.version).first()
        if letter is None:
            letter = _letter_create(grant=grant)
            audit_record(
                actor=None,
                action="letter.scheduled",
                target=letter,
                detail={"grant_id": grant.pk, "version": letter.version, "kind": letter.kind},
            )
        if not letter.is_rendered:
            grant_id, version = grant.pk, letter.version
            transaction.on_commit(lambda: letter_render_task.delay(grant_id, version))
    return letter


def _letter_create(*, grant) -> GrantLetter:
    issued_on = timezone.localdate()
    for _attempt in range(5):
        code = verification_code_new()
        facts = letter_facts_for_grant(grant=grant, verification_code=code, issued_on=issued_on)
        try:
            # A savepoint, so a clash of random codes (60 bits: practically never) can retry.
            with transaction.atomic():
                return GrantLetter.objects.create(
                    grant=grant,
                    version=grant.version,
                    kind=facts["kind"],
                    verification_code=code,
                    facts=facts,
                    content_sha256=content_fingerprint(facts),
                )
        except IntegrityError:
            if GrantLetter.objects.filter(grant=grant, version=grant.version).exists():
                raise  # not a code clash: another transaction scheduled this version
    raise RuntimeError("could not draw an unused verification code")


def letter_render(*, grant_id: int, version: int) -> GrantLetter:
    """Render and store the PDF of one letter version. Idempotent: once rendered, nothing changes.

    The row lock makes two workers handed the same task render it once; the second sees the
    stored file and returns. Rendering the stored facts is deterministic, so a crash between
    saving the file and committing leaves at worst an orphan file of identical content.
    """
    with transaction.atomic():
        letter = GrantLetter.objects.select_for_update().get(grant_id=grant_id, version=version)
        if letter.is_rendered:
            return letter
        pdf = grant_letter_pdf(facts=letter.facts)
        digest = file_sha256(pdf)
        now = timezone.now()
        grant_label = letter.facts.get("grant_id") or grant_display_id(letter.grant)
        letter.file.save(
            f"{grant_label}-v{version}-{digest[:16]}.pdf", ContentFile(pdf), save=False
        )
        letter.sha256 = digest
        letter.size = len(pdf)
        letter.rendered_at = now
        letter.state_changed_at = now

        issued = GrantLetter.objects.filter(grant_id=grant_id).exclude(
            state=GrantLetter.State.PENDING
        )
        newer = issued.filter(version__gt=version).order_by("-version").first()
        if newer is None:
            letter.state = GrantLetter.State.CURRENT
            older_state = (
                GrantLetter.State.REVOKED
                if letter.kind == GrantLetter.Kind.REVOCATION
                else GrantLetter.State.SUPERSEDED
            )
            issued.filter(version__lt=version).exclude(state=older_state).update(
                state=older_state, state_changed_at=now
            )
        else:
            # Rendered out of order (an older version's task ran late): born superseded.
            letter.state = (
                GrantLetter.State.REVOKED
                if newer.kind == GrantLetter.Kind.REVOCATION
                else GrantLetter.State.SUPERSEDED
            )
        letter.save()
        audit_record(
            actor=None,
            action="letter.rendered",
            target=letter,
            detail={"version": version, "sha256": digest, "bytes": len(pdf)},
        )
    logger.info(
        "letter %s v%s rendered: %s bytes, sha256 %s", grant_label, version, len(pdf), digest
    )
    return letter


@dataclass(frozen=True)
class UploadCheck:
    sha256: str
    matches: list[GrantLetter]

    @property
    def verified(self) -> bool:
        return bool(self.matches)


def letter_upload_check(*, sha256: str) -> UploadCheck:
    """The issued letters whose PDF has this SHA-256 (the upload itself is hashed while it streams
    in and never stored: see letters.uploads)."""
    return UploadCheck(sha256=sha256, matches=list(letters_with_sha256(sha256=sha256)))
