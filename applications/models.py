from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.history import history_kept

from .cities import CITIES

CITY_CODE_CHOICES = [(code, f"{zh} {en}") for code, zh, en in CITIES]
slug_validator = RegexValidator(r"^[a-z0-9-]{1,64}$", _("Use 1–64 of a–z, 0–9 and hyphens."))
reference_validator = RegexValidator(r"^[A-Z0-9-]{1,32}$", _("Use 1–32 of A–Z, 0–9 and hyphens."))


def _bilingual(zh: str, en: str) -> str:
    return en if (get_language() or "").startswith("en") else zh


class CityProgram(models.Model):
    """A city's compute-subsidy program: it runs rounds and signs the grant letters."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120)
    city_zh = models.CharField(_("city (Chinese)"), max_length=60)
    city_en = models.CharField(_("city (English)"), max_length=60)
    contact_email = models.EmailField(_("contact email"))
    history = history_kept()

    class Meta:
        verbose_name = _("city program")
        verbose_name_plural = _("city programs")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name_en

    @property
    def name(self) -> str:
        return _bilingual(self.name_zh, self.name_en)

    @property
    def city(self) -> str:
        return _bilingual(self.city_zh, self.city_en)


class Round(models.Model):
    """A funding round. Its rules are public and freeze when it opens (see services.round_update)."""

    program = models.ForeignKey(
        CityProgram, verbose_name=_("program"), on_delete=models.PROTECT, related_name="rounds"
    )
    code = models.CharField(
        _("code"),
        max_length=64,
        unique=True,
        validators=[slug_validator],
        help_text=_("Public identifier, also the draw id."),
    )
    title_zh = models.CharField(_("title (Chinese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    gpu_hours_on_offer = models.PositiveIntegerField(_("GPU-hours on offer"), default=0)
    tokens_on_offer = models.PositiveBigIntegerField(_("tokens on offer"), default=0)
    grant_min_gpu_hours = models.PositiveIntegerField(_("smallest grant (GPU-hours)"), default=100)
    grant_max_gpu_hours = models.PositiveIntegerField(_("largest grant (GPU-hours)"), default=5000)
    winners = models.PositiveIntegerField(_("winners"), help_text=_("Number of grants drawn (K)."))
    max_employees = models.PositiveIntegerField(_("most employees"), default=49)
    max_company_age_years = models.PositiveIntegerField(
        _("oldest company age (years)"), null=True, blank=True
    )
    eligible_cities = models.JSONField(
        _("eligible cities"),
        default=list,
        blank=True,
        help_text=_("City codes; empty means every city."),
    )
    acceptance_window_days = models.PositiveIntegerField(_("acceptance window (days)"), default=14)
    review_deadline = models.DateTimeField(
        _("review deadline"),
        null=True,
        blank=True,
        help_text=_("Applications still needing review at this time are excluded from the draw."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = history_kept()

    class Meta:
        verbose_name = _("round")
        verbose_name_plural = _("rounds")
        ordering = ["-opens_at", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("opens_at")), name="round_closes_after_opening"
            ),
            models.CheckConstraint(
                condition=Q(grant_max_gpu_hours__gte=F("grant_min_gpu_hours")),
                name="round_grant_sizes_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def title(self) -> str:
        return _bilingual(self.title_zh, self.title_en)

    @property
    def rules_frozen(self) -> bool:
        return self.opens_at <= timezone.now()

    @property
    def is_open(self) -> bool:
        return self.opens_at <= timezone.now() < self.closes_at

    @property
    def is_closed(self) -> bool:
        return timezone.now() >= self.closes_at


class Stratum(models.Model):
    """A group of applicants with reserved seats or a cap in the draw (spec step 5).

    An application joins the first stratum (by position) whose cities or size bands match it."""

    round = models.ForeignKey(
        Round, verbose_name=_("round"), on_delete=models.CASCADE, related_name="strata"
    )
    code = models.CharField(_("code"), max_length=64, validators=[slug_validator])
    name_zh = models.CharField(_("name (Chinese)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120)
    reserved = models.PositiveIntegerField(_("reserved places"), default=0)
    cap = models.PositiveIntegerField(
        _("cap"), null=True, blank=True, help_text=_("Empty: no cap.")
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    match_cities = models.JSONField(_("matching cities"), default=list, blank=True)
    match_size_bands = models.JSONField(_("matching size bands"), default=list, blank=True)
    history = history_kept()

    class Meta:
        verbose_name = _("stratum")
        verbose_name_plural = _("strata")
        ordering = ["round", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["round", "code"], name="stratum_unique_code_per_round"),
            models.CheckConstraint(
                condition=Q(cap__isnull=True) | Q(cap__gte=F("reserved")),
                name="stratum_cap_not_below_reserved",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round.code}/{self.code}"

    @property
    def name(self) -> str:
        return _bilingual(self.name_zh, self.name_en)


class Application(models.Model):
    class Status(models.TextChoices):
        ELIGIBLE = "eligible", _("Eligible")
        INELIGIBLE = "ineligible", _("Not eligible")
        NEEDS_REVIEW = "needs_review", _("Being reviewed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class RevenueBand(models.TextChoices):
        PRE_REVENUE = "pre_revenue", _("Pre-revenue")
        UNDER_1M = "under_1m", _("Under ¥1 million")
        FROM_1M_TO_10M = "1m_10m", _("¥1–10 million")
        FROM_10M_TO_50M = "10m_50m", _("¥10–50 million")
        OVER_50M = "over_50m", _("Over ¥50 million")

    class Language(models.TextChoices):
        CHINESE = "zh-hans", "简体中文"
        ENGLISH = "en", "English"

    reference = models.CharField(
        _("reference"), max_length=32, unique=True, validators=[reference_validator]
    )
    round = models.ForeignKey(
        Round, verbose_name=_("round"), on_delete=models.PROTECT, related_name="applications"
    )
    # Company
    company_legal_name = models.CharField(_("legal name"), max_length=200)
    # company_names.company_name_key(company_legal_name): spots a similar name in the round.
    company_name_key = models.CharField(
        _("company name key"), max_length=200, blank=True, editable=False
    )
    uscc = models.CharField(_("Unified Social Credit Code"), max_length=18)
    registration_city = models.CharField(
        _("registration city"), max_length=32, choices=CITY_CODE_CHOICES
    )
    founded_on = models.DateField(_("founded on"))
    employees = models.PositiveIntegerField(
        _("employees"), validators=[MinValueValidator(1), MaxValueValidator(1_000_000)]
    )
    revenue_band = models.CharField(_("revenue band"), max_length=16, choices=RevenueBand.choices)
    website = models.URLField(_("website"), blank=True)
    # Contact
    founder_name = models.CharField(_("founder name"), max_length=100)
    email = models.EmailField(_("email"))
    mobile = models.CharField(_("mobile"), max_length=20, help_text=_("E.164, e.g. +8613800138000"))
    # Request
    preferred_centers = models.ManyToManyField(
        "centers.Center",
        verbose_name=_("preferred centers"),
        through="PreferredCenter",
        related_name="+",
    )
    gpu_hours_requested = models.PositiveIntegerField(_("GPU-hours requested"))
    purpose = models.TextField(_("purpose"), max_length=1000)
    # Consents
    consent_terms = models.BooleanField(_("terms accepted"))
    consent_publish_name = models.BooleanField(_("consents to publishing the name"), default=False)
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.CHINESE
    )
    # Eligibility, decided by code at submission and by staff for the edge cases
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, db_index=True)
    stratum = models.CharField(_("stratum"), max_length=64, blank=True, default="")
    eligibility_rule = models.CharField(_("eligibility rule"), max_length=40, blank=True)
    eligibility_reason_zh = models.TextField(_("eligibility reason (Chinese)"), blank=True)
    eligibility_reason_en = models.TextField(_("eligibility reason (English)"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now, db_index=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    history = history_kept(excluded_fields=["submitted_at"])

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-submitted_at"]
        constraints = [
            # One entry per company per round: the rule that makes the draw fair.
            models.UniqueConstraint(
                fields=["round", "uscc"], name="one_application_per_company_per_round"
            ),
            models.CheckConstraint(
                condition=Q(consent_terms=True), name="application_terms_accepted"
            ),
            models.CheckConstraint(
                condition=Q(employees__gte=1), name="application_employees_positive"
            ),
        ]
        indexes = [
            models.Index(fields=["round", "status"]),
            models.Index(fields=["round", "company_name_key"]),
        ]
        permissions = [("decide_eligibility", "Can decide eligibility of an application")]

    def __str__(self) -> str:
        return f"{self.reference} {self.company_legal_name}"

    @property
    def size_band(self) -> str:
        return size_band_for(self.employees)

    @property
    def eligibility_reason(self) -> str:
        return _bilingual(self.eligibility_reason_zh, self.eligibility_reason_en)


def size_band_for(employees: int) -> str:
    if employees < 10:
        return "1-9"
    if employees < 20:
        return "10-19"
    if employees < 50:
        return "20-49"
    return "50+"


class PreferredCenter(models.Model):
    application = models.ForeignKey(
        Application,
        verbose_name=_("application"),
        on_delete=models.CASCADE,
        related_name="center_preferences",
    )
    center = models.ForeignKey(
        "centers.Center",
        verbose_name=_("computing center"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    position = models.PositiveSmallIntegerField(_("preference"), default=1)

    class Meta:
        verbose_name = _("preferred center")
        verbose_name_plural = _("preferred centers")
        ordering = ["application", "position"]
        constraints = [
            models.UniqueConstraint(fields=["application", "center"], name="preferred_center_once"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.center_id}"


class Commitment(models.Model):
    """An outcome the founder commits to; each becomes a milestone with a tranche of a grant."""

    class Kind(models.TextChoices):
        OPEN_WEIGHTS = "open_weights", _("Open-source model weights")
        OPEN_CODE = "open_code", _("Open-source code")
        PAPER = "paper", _("Paper or technical report")
        PRODUCT_LAUNCH = "product_launch", _("Product launch")

    application = models.ForeignKey(
        Application,
        verbose_name=_("application"),
        on_delete=models.CASCADE,
        related_name="commitments",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    target_date = models.DateField(_("target date"))

    class Meta:
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")
        ordering = ["application", "target_date", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["application", "kind"], name="commitment_kind_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.target_date}"
