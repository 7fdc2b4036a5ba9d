from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Center(models.Model):
    """A state computing center that sells subsidised GPU compute (Wuhan, Qingyang, Guiyang, …)."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120)
    city_zh = models.CharField(_("city (Chinese)"), max_length=60)
    city_en = models.CharField(_("city (English)"), max_length=60)
    is_active = models.BooleanField(_("active"), default=True)
    # --- issue 4: usage reports the center signs back to Suanli (same scheme as webhooks) ---
    usage_secret = models.CharField(
        _("usage report secret"),
        max_length=80,
        blank=True,
        help_text=_("whsec_ secret the center signs usage reports with; shown to staff once."),
    )
    usage_secret_previous = models.CharField(
        _("previous usage report secret"), max_length=80, blank=True, editable=False
    )
    usage_secret_previous_until = models.DateTimeField(
        _("previous usage report secret valid until"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("computing center")
        verbose_name_plural = _("computing centers")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name_en} ({self.code})"

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh

    @property
    def city(self) -> str:
        return self.city_en if (get_language() or "").startswith("en") else self.city_zh

    def usage_secrets(self, *, now=None) -> list[str]:
        """Secrets a usage report may be signed with: the current one, and the previous one
        during the rotation overlap."""
        moment = now or timezone.now()
        secrets = [self.usage_secret] if self.usage_secret else []
        if (
            self.usage_secret_previous
            and self.usage_secret_previous_until
            and self.usage_secret_previous_until > moment
        ):
            secrets.append(self.usage_secret_previous)
        return secrets


class GpuType(models.Model):
    class Unit(models.TextChoices):
        GPU_HOURS = "gpu_hours", _("GPU-hours")
        TOKENS = "tokens", _("tokens")

    center = models.ForeignKey(
        Center,
        verbose_name=_("computing center"),
        on_delete=models.CASCADE,
        related_name="gpu_types",
    )
    code = models.SlugField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=80)
    unit = models.CharField(_("unit"), max_length=16, choices=Unit.choices, default=Unit.GPU_HOURS)

    class Meta:
        verbose_name = _("GPU type")
        verbose_name_plural = _("GPU types")
        ordering = ["center", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["center", "code"], name="gputype_unique_code_per_center"
            )
        ]

    def __str__(self) -> str:
        return f"{self.center.code}/{self.name}"


# --- issue 4: capacity per round as a ledger, and the centers' billing webhook endpoints ---


class CenterCapacity(models.Model):
    """What one GPU type of a center offers to one round.

    ``allocated`` is the running sum of the ledger (``CapacityEntry``), changed only by
    ``centers.services.capacity_ledger_post`` while this row is locked, so a database
    constraint can refuse any allocation beyond ``capacity`` even from two staff at once.
    """

    gpu_type = models.ForeignKey(
        GpuType, verbose_name=_("GPU type"), on_delete=models.PROTECT, related_name="capacities"
    )
    round = models.ForeignKey(
        "applications.Round",
        verbose_name=_("round"),
        on_delete=models.PROTECT,
        related_name="center_capacities",
    )
    capacity = models.DecimalField(
        _("capacity"),
        max_digits=16,
        decimal_places=2,
        help_text=_("GPU-hours (or tokens) this GPU type offers to the round."),
    )
    allocated = models.DecimalField(
        _("allocated"), max_digits=16, decimal_places=2, default=0, editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["round", "gpu_type__center__code", "gpu_type__code"]
        verbose_name = _("capacity per round")
        verbose_name_plural = _("capacities per round")
        constraints = [
            models.UniqueConstraint(fields=["gpu_type", "round"], name="capacity_once_per_round"),
            models.CheckConstraint(condition=Q(capacity__gte=0), name="capacity_not_negative"),
            models.CheckConstraint(condition=Q(allocated__gte=0), name="allocated_not_negative"),
            models.CheckConstraint(
                condition=Q(allocated__lte=F("capacity")), name="allocated_within_capacity"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.gpu_type} · {self.round.code}"

    @property
    def center(self) -> Center:
        return self.gpu_type.center

    @property
    def unit(self) -> str:
        return self.gpu_type.unit

    @property
    def available(self):
        return self.capacity - self.allocated


class CapacityEntry(models.Model):
    """One movement of capacity. Append-only; available = capacity - Σ allocation + Σ return
    + Σ revocation (a release moves compute from reserved to the founder and leaves it)."""

    class Kind(models.TextChoices):
        ALLOCATION = "allocation", _("allocation")
        RELEASE = "release", _("release")
        RETURN = "return", _("return")
        REVOCATION = "revocation", _("revocation")

    # How each kind moves the reserved total; the ledger's only arithmetic.
    ALLOCATED_SIGN = {"allocation": 1, "release": 0, "return": -1, "revocation": -1}

    capacity = models.ForeignKey(
        CenterCapacity, verbose_name=_("capacity"), on_delete=models.PROTECT, related_name="entries"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    grant = models.ForeignKey(
        "grants.Grant",
        verbose_name=_("grant"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="capacity_entries",
    )
    tranche = models.ForeignKey(
        "grants.Tranche",
        verbose_name=_("tranche"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("capacity entry")
        ordering = ["created_at", "id"]
        verbose_name_plural = _("capacity entries")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="capacity_entry_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} ({self.capacity})"


class WebhookEndpoint(models.Model):
    """A center's billing system URL that receives signed grant webhooks (docs/webhooks.md)."""

    center = models.ForeignKey(
        Center,
        verbose_name=_("computing center"),
        on_delete=models.PROTECT,
        related_name="webhook_endpoints",
    )
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    secret = models.CharField(_("secret"), max_length=80, editable=False)
    previous_secret = models.CharField(
        _("previous secret"), max_length=80, blank=True, editable=False
    )
    previous_secret_until = models.DateTimeField(
        _("previous secret valid until"), null=True, blank=True, editable=False
    )
    secret_rotated_at = models.DateTimeField(
        _("secret rotated at"), null=True, blank=True, editable=False
    )
    is_active = models.BooleanField(_("active"), default=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True, editable=False)
    disabled_reason = models.CharField(
        _("reason disabled"), max_length=300, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["center__code", "id"]
        constraints = [
            models.UniqueConstraint(fields=["center", "url"], name="endpoint_url_once_per_center"),
        ]

    def __str__(self) -> str:
        return f"{self.center.code} → {self.url}"

    def signing_secrets(self, *, now=None) -> list[str]:
        """The current secret first, plus the previous one while the 24-hour overlap lasts:
        both signatures are sent so the center can switch at its own pace."""
        moment = now or timezone.now()
        secrets = [self.secret]
        if (
            self.previous_secret
            and self.previous_secret_until
            and self.previous_secret_until > moment
        ):
            secrets.append(self.previous_secret)
        return secrets
