"""The founder's evidence page, reached from the signed status link (no account)."""

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from applications.services import status_token_read
from core.http import private_page

from .forms import EvidenceForm
from .selectors import milestone_for_founder
from .services import MilestoneError, milestone_evidence_submit


def _over_submission_limit(milestone_id: int) -> bool:
    """Each submission makes the workers fetch a URL: cap how often one milestone can ask."""
    key = f"milestones:submissions:{milestone_id}"
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        count = 1
    return count > settings.MILESTONES_SUBMISSIONS_PER_HOUR


@require_http_methods(["GET", "HEAD", "POST"])
def evidence_submit(request: HttpRequest, token: str, milestone_id: int) -> HttpResponse:
    application = status_token_read(token)
    if application is None:
        return private_page(render(request, "applications/status_link_invalid.html", status=404))
    milestone = milestone_for_founder(application=application, milestone_id=milestone_id)
    status_url = reverse("applications:status", kwargs={"token": token})
    if milestone is None or not milestone.accepts_evidence:
        return private_page(redirect(f"{status_url}#milestones"))
    form = EvidenceForm(request.POST or None, initial={"evidence_url": milestone.evidence_url})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            if _over_submission_limit(milestone.pk):
                form.add_error(
                    None, _("Too many submissions for this milestone. Try again in an hour.")
                )
            else:
                try:
                    milestone_evidence_submit(
                        milestone=milestone,
                        url=form.cleaned_data["evidence_url"],
                        note=form.cleaned_data["note"],
                    )
                except MilestoneError:
                    form.add_error(None, _("This milestone no longer takes evidence."))
                else:
                    messages.success(
                        request,
                        _("Thank you. We are checking your evidence and will update this page."),
                    )
                    return private_page(redirect(f"{status_url}#milestone-{milestone.pk}"))
        status = 400
    return private_page(
        render(
            request,
            "milestones/evidence_form.html",
            {
                "application": application,
                "milestone": milestone,
                "form": form,
                "token": token,
                "status_url": status_url,
            },
            status=status,
        )
    )
