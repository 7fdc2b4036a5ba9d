from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Audit trail")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .permissions import groups_apply_permissions

        # Every app's permissions must exist first; each app's post_migrate runs after its own are
        # created, so re-apply after each one (idempotent and cheap) rather than only after core.
        post_migrate.connect(groups_apply_permissions, dispatch_uid="core.groups_apply_permissions")
