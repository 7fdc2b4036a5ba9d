from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _reinstall_guards(sender, using="default", **kwargs):
    from django.db import connections

    from lottery import db_guards

    connection = connections[using]
    tables = connection.introspection.table_names()
    if "lottery_draw" in tables and "lottery_drawevent" in tables:
        db_guards.install(connection)


class LotteryConfig(AppConfig):
    name = "lottery"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Lottery")

    def ready(self) -> None:
        # SQLite drops a table's triggers when a migration rebuilds it: put them back.
        post_migrate.connect(_reinstall_guards, sender=self)
