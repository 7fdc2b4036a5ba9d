from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CentersConfig(AppConfig):
    name = "centers"
    verbose_name = _("Computing centers")
    default_auto_field = "django.db.models.BigAutoField"
