"""Demo milestones: one verified by staff (its tranche released, webhook sent), one with
evidence waiting for the worker's check. Offline: nothing here fetches a URL; the check is
queued and runs when ``manage.py runportal`` starts a worker (without internet it ends in the
staff review queue, which is what a newcomer should see in admin). Idempotent."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from grants.models import Grant

from . import services
from .models import Milestone

DEMO_EVIDENCE = {
    "open_code": "https://github.com/vllm-project/vllm",
    "open_weights": "https://huggingface.co/Qwen/Qwen2.5-7B-Instruct",
    "paper": "https://arxiv.org/abs/2309.06180",
    "product_launch": "https://example.com/launch",
}


def load_demo(stdout) -> None:
    if Milestone.objects.filter(evidence_revision__gt=0).exists():
        return
    staff = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    grant = Grant.objects.filter(status__in=services.LIVE_GRANT_STATUSES).order_by("pk").first()
    if grant is None:
        return
    open_milestones = list(
        grant.milestones.filter(state="pending").exclude(tranche=None).order_by("target_date")
    )
    if not open_milestones:
        return
    first = open_milestones[0]
    services.milestone_evidence_submit(
        milestone=first,
        url=DEMO_EVIDENCE.get(first.kind, "https://example.com/evidence"),
        note="Demo: submitted by the founder on the status page.",
    )
    verified = 0
    if len(open_milestones) > 1 and staff is not None:
        second = open_milestones[1]
        services.milestone_evidence_submit(
            milestone=second,
            url=DEMO_EVIDENCE.get(second.kind, "https://example.com/evidence"),
            note="Demo: sent to the program by e-mail, entered by staff.",
            actor=staff,
        )
        services.milestone_verify(
            milestone=second, actor=staff, reason="Demo: checked by hand by the program office."
        )
        verified = 1
    stdout.write(f"milestones: evidence submitted for {grant}, {verified} verified by staff\n")
