"""`{% translated_path "en" %}`: this page's address in another language (/zh-hans/x/ -> /en/x/).

The language switch is a plain link to it. Django's set_language view resolves the `next` URL in
the language of the *request to set_language* (cookie or Accept-Language), so from a /zh-hans/
page in an English browser it could not translate the address and sent people back to Chinese;
it is also a POST, which pages served with `Referrer-Policy: no-referrer` send with `Origin: null`
and Django's CSRF check refuses. A link has neither problem and needs no JavaScript."""

from django import template
from django.urls import translate_url
from django.utils import translation
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString

register = template.Library()


def path_in_language(path: str, language: str) -> str:
    translated = translate_url(path, language)
    return translated if translated != path else f"/{language}/"


def language_switch_part(request) -> SafeString:
    """The switch link's address for a page kept once per process (core.page_frames), escaped
    as the tag's output is: the other language's address of this request."""
    current = translation.get_language()
    other = "zh-hans" if current == "en" else "en"
    path = request.get_full_path()
    # Both languages have the same addresses but for the prefix (no translated URL patterns), so
    # swapping it is what translate_url answers, without resolving the address again.
    if path.startswith(f"/{current}/"):
        return conditional_escape(f"/{other}/{path[len(current) + 2 :]}")
    return conditional_escape(path_in_language(path, other))


@register.simple_tag(takes_context=True)
def translated_path(context, language: str) -> str:
    # A page rendered once and filled in per request (core.page_frames) gives it as a part.
    if "language_switch_path" in context:
        return context["language_switch_path"]
    request = context.get("request")
    if request is None:
        return f"/{language}/"
    return path_in_language(request.get_full_path(), language)
