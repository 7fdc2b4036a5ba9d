"""Filters for the bilingual PDFs: dates as 2026年12月1日 / 1 December 2026, amounts with commas.

The letters print both languages at once, so these do not depend on the active language.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import timezone

register = template.Library()

_MONTHS_EN = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def _as_date(value):
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return _as_date(datetime.fromisoformat(value))
        except ValueError:
            return None
    return None


@register.filter
def zh_date(value) -> str:
    day = _as_date(value)
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


@register.filter
def en_date(value) -> str:
    day = _as_date(value)
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}" if day else ""


@register.filter
def zh_datetime(value) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return ""
    if not isinstance(value, datetime):
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return f"{value.year}年{value.month}月{value.day}日 {value:%H:%M}"


@register.filter
def en_datetime(value) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return ""
    if not isinstance(value, datetime):
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return f"{en_date(value)}, {value:%H:%M}"


@register.filter
def amount(value) -> str:
    """12000 -> '12,000'; 1500.5 -> '1,500.5'; exact, never rounded."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    number = number.normalize()
    if number == number.to_integral():
        return f"{number.quantize(Decimal(1)):,}"
    return f"{number:,f}"


@register.filter
def hex_groups(value, size: int = 8) -> str:
    text = str(value or "")
    return " ".join(text[i : i + size] for i in range(0, len(text), size))
