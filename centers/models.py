from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Center(models.Model):
    """A state computing center that sells subsidised GPU compute (Wuhan, Qingyang, Guiyang, …)."""

    code = models.SlugField(max_length=32, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120)
    city_zh = models.CharField(_("city (Chinese)"), max_length=60)
    city_en = models.CharField(_("city (English)"), max_length=60)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name_en} ({self.code})"

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh

    @property
    def city(self) -> str:
        return self.city_en if (get_language() or "").startswith("en") else self.city_zh


class GpuType(models.Model):
    class Unit(models.TextChoices):
        GPU_HOURS = "gpu_hours", _("GPU-hours")
        TOKENS = "tokens", _("tokens")

    center = models.ForeignKey(Center, on_delete=models.CASCADE, related_name="gpu_types")
    code = models.SlugField(max_length=32)
    name = models.CharField(max_length=80)
    unit = models.CharField(max_length=16, choices=Unit.choices, default=Unit.GPU_HOURS)

    class Meta:
        ordering = ["center", "code"]
        constraints = [
            models.UniqueConstraint(fields=["center", "code"], name="gputype_unique_code_per_center")
        ]

    def __str__(self) -> str:
        return f"{self.center.code}/{self.name}"
