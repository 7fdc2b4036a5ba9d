"""Filters the message templates share, so a sentence stays one translatable unit."""

from django import template
from django.conf import settings
from django.utils.translation import gettext, pgettext

register = template.Library()


@register.filter
def compute_unit(unit: str) -> str:
    """The name of a grant's unit in the active language."""
    # With a context: a bare "tokens" is translated differently elsewhere (or not at all).
    return pgettext("compute unit", "tokens") if unit == "tokens" else gettext("GPU-hours")


@register.filter
def absolute_url(url: str) -> str:
    """A link that works from an e-mail: paths get the site's address in front."""
    url = str(url or "")
    return settings.SITE_URL + url if url.startswith("/") else url
