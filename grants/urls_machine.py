"""Language-independent addresses of the grants app (records, webhooks): stable for machines."""

app_name = "grants_machine"
urlpatterns: list = []
