from django.urls import path

from .apis import UsageReportApi

app_name = "grants_api"
urlpatterns = [
    path("centers/<slug:code>/usage-reports/", UsageReportApi.as_view(), name="usage_report"),
]
