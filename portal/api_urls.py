"""The public and center-facing API, one prefix per app."""

from django.urls import include, path

urlpatterns = [
    path("", include("applications.api_urls")),
    path("", include("lottery.api_urls")),
    path("", include("grants.api_urls")),
    path("", include("milestones.api_urls")),
    path("", include("letters.api_urls")),
    path("", include("transparency.api_urls")),
]
