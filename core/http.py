"""Response helpers shared by the apps' views."""

from django.http import HttpResponse


def private_page(response: HttpResponse) -> HttpResponse:
    """A page reached by a secret link (the founder's status token): never leak the link to
    another site, never cache it.

    `same-origin` rather than `no-referrer`: under `no-referrer` browsers send `Origin: null`
    with every form POST from the page (withdraw, accept a grant, submit evidence, switch
    language), which Django's CSRF check rightly refuses. `same-origin` still sends no referrer
    at all to any other site, which is what protects the link."""
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-store"
    return response
