from django.conf import settings
from django.utils.translation import get_language


def portal(request):
    """Names every page needs: the program name in the active language."""
    english = (get_language() or "").startswith("en")
    return {
        "program_name": settings.PROGRAM_NAME_EN if english else settings.PROGRAM_NAME_ZH,
        "site_url": settings.SITE_URL,
    }
