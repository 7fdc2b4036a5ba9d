from django.db.models import QuerySet
from django.utils import timezone

from .models import Application, Round


def rounds_open() -> QuerySet[Round]:
    now = timezone.now()
    return Round.objects.filter(opens_at__lte=now, closes_at__gt=now).select_related("program")


def application_by_reference(*, reference: str) -> Application | None:
    return Application.objects.filter(reference=reference.strip().upper()).first()


def application_of_company(*, round: Round, uscc: str) -> Application | None:
    """The company's application in this round, if it has applied (one per company per round).
    Most founders have not: the first query reads one column, cheap to build at the deadline."""
    found = Application.objects.filter(round=round, uscc=uscc).values_list("pk", flat=True)[:1]
    if not found:
        return None
    return Application.objects.select_related("round__program").get(pk=found[0])


def application_by_id(*, application_id: int) -> Application | None:
    return Application.objects.filter(pk=application_id).first()
