from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class ApplicationsConfig(AppConfig):
    name = "applications"
    # A context of its own: the transparency dashboard's "Applications" is a count (申请数).
    verbose_name = pgettext_lazy("admin section", "Applications")
    default_auto_field = "django.db.models.BigAutoField"
