from django.urls import path

from . import views

app_name = "lottery"
urlpatterns = [
    path("draws/", views.draw_list, name="draw_list"),
    path("draws/<slug:draw_id>/", views.draw_detail, name="draw_detail"),
]
