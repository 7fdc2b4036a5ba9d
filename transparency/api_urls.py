app_name = "transparency_api"
urlpatterns: list = []
