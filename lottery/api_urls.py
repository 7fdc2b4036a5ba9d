from django.urls import path

from . import apis

app_name = "lottery_api"
urlpatterns = [
    path("draws/", apis.DrawListApi.as_view(), name="draws"),
    path("draws/<slug:draw_id>/", apis.DrawDetailApi.as_view(), name="draw_detail"),
    path("draws/<slug:draw_id>/record/", apis.DrawRecordApi.as_view(), name="draw_record"),
    path(
        "draws/<slug:draw_id>/entries/<str:reference>/",
        apis.DrawEntryApi.as_view(),
        name="draw_entry",
    ),
]
