"""Language-independent addresses of the lottery app: the draw records and the verifier,
stable for machines (and for the one-command verification shown on each draw page)."""

from django.urls import path

from . import views

app_name = "lottery_machine"
urlpatterns = [
    path("draws/verify_draw.py", views.verifier_download, name="verifier"),
    path("draws/<slug:draw_id>.json", views.draw_record, name="draw_record"),
]
