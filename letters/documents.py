"""From letter facts to the PDF: the verification address, the QR code and the fingerprint."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from letters.content import content_fingerprint
from letters.qr import qr_svg_data_uri
from letters.rendering import render_pdf

GRANT_LETTER_TEMPLATE = "letters/grant_letter.html"


def verification_path() -> str:
    """`/letters/verify/` without a language prefix.

    The QR code and the printed address carry no language: whoever scans a letter is sent by
    LocaleMiddleware to the page in their browser's language (the query string is kept).
    """
    with translation.override(settings.LANGUAGE_CODE):
        path = reverse("letters:verify")
    prefix = f"/{settings.LANGUAGE_CODE}/"
    return "/" + path.removeprefix(prefix) if path.startswith(prefix) else path


def verification_url(code: str) -> str:
    return f"{settings.SITE_URL}{verification_path()}?{urlencode({'code': code})}"


def grant_letter_context(*, facts: dict) -> dict:
    url = verification_url(facts["verification_code"])
    return {
        "facts": facts,
        "fingerprint": content_fingerprint(facts),
        "verify_url": url,
        "qr_svg": qr_svg_data_uri(url),
    }


def grant_letter_pdf(*, facts: dict) -> bytes:
    return render_pdf(
        template_name=GRANT_LETTER_TEMPLATE, context=grant_letter_context(facts=facts)
    )
