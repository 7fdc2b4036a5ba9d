"""The founder's answer to a grant offer, posted from the private status page."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from applications.services import status_token_read

from .forms import OfferResponseForm
from .models import Grant
from .services import GrantError, grant_accept, grant_decline


@require_POST
def offer_respond(request: HttpRequest, token: str) -> HttpResponse:
    """Accept or decline the open offer of the application the status token opens."""
    application = status_token_read(token)
    if application is None:
        return render(request, "applications/status_link_invalid.html", status=404)
    grant = Grant.objects.filter(application=application, status=Grant.Status.OFFERED).first()
    status_page = redirect("applications:status", token=token)
    if grant is None:
        messages.error(request, _("There is no open offer to answer."))
        return status_page
    form = OfferResponseForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return status_page
    try:
        if form.cleaned_data["decision"] == "accept":
            grant_accept(grant=grant)
            messages.success(
                request,
                _("You accepted the grant. The first tranche is released to your center account."),
            )
        else:
            grant_decline(grant=grant)
            messages.success(request, _("You declined the offer. The seat goes to the waitlist."))
    except GrantError as exc:
        messages.error(request, str(exc))
    return status_page
