from django.urls import path

from . import apis

app_name = "transparency_api"
urlpatterns = [
    path("transparency/figures/", apis.FiguresApi.as_view(), name="figures"),
    path("transparency/grants/", apis.GrantRegisterApi.as_view(), name="grants"),
]
