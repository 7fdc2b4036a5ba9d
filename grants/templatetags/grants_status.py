from django import template

from ..forms import OfferResponseForm
from ..selectors import grant_for_application, grant_is_idle, grant_usage_summary

register = template.Library()


@register.inclusion_tag("grants/_status_grant.html", takes_context=True)
def grant_status(context, application):
    """The grant part of the founder's status page: offer with terms, tranches, usage."""
    grant = grant_for_application(application=application)
    if grant is None:
        return {"grant": None}
    return {
        "grant": grant,
        "tranches": grant.tranches.select_related("commitment").order_by("number"),
        "usage": grant_usage_summary(grant=grant),
        "idle": grant_is_idle(grant),
        "token": context.get("token", ""),
        "form": OfferResponseForm(),
        "csrf_token": context.get("csrf_token"),
        "request": context.get("request"),
    }
