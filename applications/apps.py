from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class ApplicationsConfig(AppConfig):
    name = "applications"
    # A context of its own: the transparency dashboard's "Applications" is a count (申请数).
    verbose_name = pgettext_lazy("admin section", "Applications")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from centers.models import Center

        from .models import CityProgram, Round, Stratum
        from .selectors import offer_forget

        # The form's rounds and centers are kept per process for a moment (selectors.offer_read):
        # a change saved here shows on the next request, not a moment later.
        for model in (CityProgram, Round, Stratum, Center):
            for signal in (post_save, post_delete):
                signal.connect(offer_forget, sender=model, dispatch_uid=f"offer_forget_{model}")
