app_name = "applications_api"
urlpatterns: list = []
