"""Template helpers for the letters' web pages (verification page, status-page section)."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language

from letters.selectors import letters_for_application
from letters.templatetags.letters_pdf import en_date, zh_date

register = template.Library()


@register.filter
def local_date(value) -> str:
    """2026年12月1日 in Chinese, 1 December 2026 in English (docs/UX.md)."""
    return en_date(value) if (get_language() or "").startswith("en") else zh_date(value)


@register.filter
def pick(facts: dict, base: str) -> str:
    """facts|pick:"name" -> facts["name_en"] or facts["name_zh"] by the active language."""
    if not isinstance(facts, dict):
        return ""
    suffix = "en" if (get_language() or "").startswith("en") else "zh"
    return facts.get(f"{base}_{suffix}") or facts.get(f"{base}_zh") or ""


@register.simple_tag
def application_letters(application):
    return list(letters_for_application(application=application))
