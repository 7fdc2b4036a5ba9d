from django.urls import path

from . import views

app_name = "applications"
urlpatterns = [
    path("apply/", views.apply, name="apply"),
    path("apply/check/", views.check, name="check"),
    path("apply/already-applied/", views.duplicate_resend, name="duplicate_resend"),
    path("apply/submitted/<str:token>/", views.confirmation, name="confirmation"),
    path("apply/submitted/<str:token>/receipt.pdf", views.receipt_pdf, name="receipt"),
    path("status/resend/", views.resend_link, name="resend_link"),
    path("status/resend/sent/", views.resend_sent, name="resend_sent"),
    path("status/<str:token>/", views.status, name="status"),
    path("status/<str:token>/withdraw/", views.withdraw, name="withdraw"),
]
