"""Issued grant letters: one row per (grant, version), the PDF stored through Django's storage API."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from letters.storage import LettersStorage


def letter_upload_to(letter: GrantLetter, filename: str) -> str:
    return f"letters/{letter.grant_id}/{filename}"


class GrantLetter(models.Model):
    """A version of a grant's letter, as issued.

    The facts printed on it are kept (`facts`) so the PDF can be rendered again byte for byte and
    the verification page can show what was issued, whatever happened to the grant since.
    """

    class Kind(models.TextChoices):
        GRANT = "grant", _("Grant letter")
        REVOCATION = "revocation", _("Revocation letter")

    class State(models.TextChoices):
        PENDING = "pending", _("Being prepared")
        CURRENT = "current", _("Current")
        SUPERSEDED = "superseded", _("Superseded by a later version")
        REVOKED = "revoked", _("Revoked")

    grant = models.ForeignKey(
        "grants.Grant", verbose_name=_("grant"), on_delete=models.PROTECT, related_name="letters"
    )
    version = models.PositiveIntegerField(_("version"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.GRANT)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.PENDING
    )
    verification_code = models.CharField(_("verification code"), max_length=14, unique=True)
    facts = models.JSONField(_("facts"))
    content_sha256 = models.CharField(_("content SHA-256"), max_length=64)
    file = models.FileField(
        _("file"), upload_to=letter_upload_to, storage=LettersStorage(), blank=True
    )
    sha256 = models.CharField(_("file SHA-256"), max_length=64, blank=True, db_index=True)
    size = models.PositiveIntegerField(_("size (bytes)"), null=True, blank=True)
    scheduled_at = models.DateTimeField(_("scheduled at"), auto_now_add=True)
    rendered_at = models.DateTimeField(_("rendered at"), null=True, blank=True)
    state_changed_at = models.DateTimeField(_("state changed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("grant letter")
        verbose_name_plural = _("grant letters")
        ordering = ["grant_id", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["grant", "version"], name="letters_one_letter_per_grant_version"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="letters_version_positive"),
            # A letter leaves "pending" only with its file and hash: nothing public without a PDF.
            models.CheckConstraint(
                condition=Q(state="pending", rendered_at__isnull=True)
                | (
                    ~Q(state="pending") & Q(rendered_at__isnull=False) & ~Q(sha256="") & ~Q(file="")
                ),
                name="letters_rendered_letters_have_file_and_hash",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.facts.get('grant_id', self.grant_id)} v{self.version} ({self.state})"

    @property
    def is_rendered(self) -> bool:
        return self.rendered_at is not None

    @property
    def download_name(self) -> str:
        return f"{self.facts.get('grant_id', self.grant_id)}-v{self.version}.pdf"
