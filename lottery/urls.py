app_name = "lottery"
urlpatterns: list = []
