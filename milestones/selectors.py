from django.db.models import Prefetch, QuerySet

from .models import EvidenceCheck, Milestone

# Grants whose milestones the founder sees (an offer not yet accepted shows none).
FOUNDER_VISIBLE_GRANT_STATUSES = ("accepted", "active", "completed")


def milestones_for_application(*, application) -> QuerySet[Milestone]:
    """The founder's milestones across the application's accepted grants, by target date."""
    return (
        Milestone.objects.filter(
            grant__application=application, grant__status__in=FOUNDER_VISIBLE_GRANT_STATUSES
        )
        .select_related("grant", "tranche")
        .order_by("target_date", "pk")
    )


def milestone_for_founder(*, application, milestone_id: int) -> Milestone | None:
    return milestones_for_application(application=application).filter(pk=milestone_id).first()


def milestones_review_queue() -> QuerySet[Milestone]:
    """What staff must look at: checks that could not decide."""
    return (
        Milestone.objects.filter(state=Milestone.State.SUBMITTED, needs_review=True)
        .select_related("grant__application")
        .prefetch_related(
            Prefetch("checks", queryset=EvidenceCheck.objects.order_by("-started_at"))
        )
        .order_by("evidence_submitted_at")
    )
