import logging

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger("letters")


class LettersConfig(AppConfig):
    name = "letters"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Grant letters")

    def ready(self) -> None:
        from letters import checks

        # Said once at start-up, in the log of every web and worker process, because the slow
        # fallback does not fail: letters just take 40 times longer.
        for message in checks.rendering_problems():
            logger.warning(message)
