"""Language-independent addresses of the lottery app (records, webhooks): stable for machines."""

app_name = "lottery_machine"
urlpatterns: list = []
