from django import template

register = template.Library()


@register.filter
def percent(value) -> str:
    """0.1234 → 12.3% (shares are stored as fractions)."""
    try:
        return f"{float(value) * 100:.1f}%"
    except (TypeError, ValueError):
        return ""


@register.filter
def number(value) -> str:
    """Whole numbers with thousands separators; others with one decimal."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return ""
    return f"{int(value):,}" if value.is_integer() else f"{value:,.1f}"
