"""`{% translated_path "en" %}`: this page's address in another language (/zh-hans/x/ -> /en/x/).

The language switch is a plain link to it. Django's set_language view resolves the `next` URL in
the language of the *request to set_language* (cookie or Accept-Language), so from a /zh-hans/
page in an English browser it could not translate the address and sent people back to Chinese;
it is also a POST, which pages served with `Referrer-Policy: no-referrer` send with `Origin: null`
and Django's CSRF check refuses. A link has neither problem and needs no JavaScript."""

from django import template
from django.urls import translate_url

register = template.Library()


@register.simple_tag(takes_context=True)
def translated_path(context, language: str) -> str:
    request = context.get("request")
    if request is None:
        return f"/{language}/"
    path = request.get_full_path()
    translated = translate_url(path, language)
    return translated if translated != path else f"/{language}/"
