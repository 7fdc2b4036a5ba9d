app_name = "letters_api"
urlpatterns: list = []
