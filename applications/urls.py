from django.urls import path

from . import views

app_name = "applications"
urlpatterns = [
    path("apply/", views.apply, name="apply"),
    path("status/resend/", views.resend_link, name="resend_link"),
    path("status/<str:token>/", views.status, name="status"),
]
