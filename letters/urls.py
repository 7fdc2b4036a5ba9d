app_name = "letters"
urlpatterns: list = []
