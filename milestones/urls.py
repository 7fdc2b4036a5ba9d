from django.urls import path

from . import views

app_name = "milestones"
urlpatterns = [
    path(
        "status/<str:token>/milestones/<int:milestone_id>/evidence/",
        views.evidence_submit,
        name="evidence_submit",
    ),
]
