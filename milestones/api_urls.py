app_name = "milestones_api"
urlpatterns: list = []
