from django.apps import AppConfig


class CentersConfig(AppConfig):
    name = "centers"
    default_auto_field = "django.db.models.BigAutoField"
