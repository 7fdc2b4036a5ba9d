"""`{% translated_path "en" %}`: this page's address in another language (/zh-hans/x/ -> /en/x/).

The language switch is a plain link to it. Django's set_language view resolves the `next` URL in
the language of the *request to set_language* (cookie or Accept-Language), so from a /zh-hans/
page in an English browser it could not translate the address and sent people back to Chinese;
it is also a POST, which pages served with `Referrer-Policy: no-referrer` send with `Origin: null`
and Django's CSRF check refuses. A link has neither problem and needs no JavaScript."""

from django import template
from django.urls import translate_url

register = template.Library()


def path_in_language(path: str, language: str) -> str:
    translated = translate_url(path, language)
    return translated if translated != path else f"/{language}/"


@register.simple_tag(takes_context=True)
def translated_path(context, language: str) -> str:
    # A page rendered once and filled in per request (core.page_frames) gives it as a part.
    if "language_switch_path" in context:
        return context["language_switch_path"]
    request = context.get("request")
    if request is None:
        return f"/{language}/"
    return path_in_language(request.get_full_path(), language)
