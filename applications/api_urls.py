from django.urls import path

from . import apis

app_name = "applications_api"
urlpatterns = [
    path("rounds/", apis.RoundListApi.as_view(), name="rounds"),
    path("rounds/<str:code>/", apis.RoundDetailApi.as_view(), name="round_detail"),
    path("applications/", apis.ApplicationSubmitApi.as_view(), name="application_submit"),
]
