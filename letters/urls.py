from django.urls import path

from letters import views

app_name = "letters"
urlpatterns = [
    path("letters/verify/", views.verify, name="verify"),
    path(
        "letters/download/<str:token>/<int:letter_id>/",
        views.founder_download,
        name="founder_download",
    ),
]
