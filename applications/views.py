"""Founder-facing pages. Thin: validate with a form, call a service, render."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from .services import status_token_read


def apply(request: HttpRequest) -> HttpResponse:
    # The one-page form is built in the application-form change; until then nothing is accepted.
    raise Http404


def resend_link(request: HttpRequest) -> HttpResponse:
    raise Http404


def status(request: HttpRequest, token: str) -> HttpResponse:
    application = status_token_read(token)
    if application is None:
        return render(request, "applications/status_link_invalid.html", status=404)
    response = render(
        request, "applications/status.html", {"application": application, "token": token}
    )
    response["Referrer-Policy"] = "no-referrer"
    return response
