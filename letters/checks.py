"""Start-up checks for PDF rendering: HarfBuzz subsetting and the CJK fonts.

Also registered with Django's system checks, so `manage.py check` lists the same problems.
"""

from __future__ import annotations

from django.core import checks

from letters import rendering

HARFBUZZ_MISSING = (
    "libharfbuzz-subset0 is not installed: WeasyPrint will subset fonts with fontTools and each "
    "grant letter will take seconds instead of a fraction of one. Install the Debian package "
    "libharfbuzz-subset0 (scripts/setup.sh does)."
)


def rendering_problems() -> list[str]:
    problems = []
    if not rendering.harfbuzz_subset_available():
        problems.append(HARFBUZZ_MISSING)
    missing = rendering.missing_cjk_fonts()
    if missing:
        problems.append(
            f"Fonts {', '.join(missing)} not found by fontconfig: Chinese text in PDFs would be "
            "set in another font or not at all. Install the Debian package fonts-noto-cjk."
        )
    return problems


@checks.register()
def letters_rendering_check(app_configs=None, **kwargs):
    return [
        checks.Warning(message, id=f"letters.W00{number}")
        for number, message in enumerate(rendering_problems(), start=1)
    ]
