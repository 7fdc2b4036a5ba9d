from django.urls import path

from . import views

app_name = "transparency"
urlpatterns = [
    path("transparency/", views.dashboard, name="dashboard"),
    path("transparency/figures.json", views.figures_json, name="figures_json"),
    path("transparency/figures/<slug:name>.csv", views.figures_csv, name="figures_csv"),
    path("transparency/grants/", views.register, name="register"),
    path("transparency/grants.json", views.register_json, name="register_json"),
    path("transparency/grants.csv", views.register_csv, name="register_csv"),
]
