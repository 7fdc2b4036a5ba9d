app_name = "lottery_api"
urlpatterns: list = []
