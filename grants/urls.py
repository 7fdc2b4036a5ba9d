from django.urls import path

from . import views

app_name = "grants"
urlpatterns = [
    path("grants/respond/<str:token>/", views.offer_respond, name="offer_respond"),
]
