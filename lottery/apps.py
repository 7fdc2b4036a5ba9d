from django.apps import AppConfig


class LotteryConfig(AppConfig):
    name = "lottery"
    default_auto_field = "django.db.models.BigAutoField"
