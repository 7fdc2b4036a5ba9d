"""Turn a Django template into a PDF with WeasyPrint: grant letters and application receipts.

Why it looks the way it does:
- Fonts are named explicitly ("Noto Serif CJK SC", "Noto Sans CJK SC" from Debian's
  fonts-noto-cjk) in `templates/letters/pdf.css`, so a missing font is a visible failure of the
  start-up check instead of a silent fallback to whatever fontconfig finds. WeasyPrint embeds
  and subsets every font it uses.
- Subsetting a 20 MB CJK font is the expensive step. WeasyPrint does it with HarfBuzz when
  `libharfbuzz-subset.so.0` loads and otherwise with fontTools, about 40x slower on a letter.
  `harfbuzz_subset_available()` tells which; the app config warns at start-up when it is missing.
- The font configuration and the parsed stylesheet are built once per thread and reused: parsing
  the CSS and loading the font map cost more than laying out a one-page letter.
- Output is deterministic for a given context: no /ID, creation date taken from the document's
  `dcterms.created` meta (the letter's issue date), no clock read. The same grant version renders
  to the same bytes, which keeps the stored SHA-256 meaningful and re-renders verifiable.
- Only `data:` URLs are fetched: a company name typed by a founder can never make the renderer
  read a local file or call a server.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from django.template.loader import get_template, render_to_string
from django.utils import translation

logger = logging.getLogger(__name__)

CJK_FONT_FAMILIES = ("Noto Serif CJK SC", "Noto Sans CJK SC")
# Where Debian's fonts-noto-cjk puts them; the start-up check looks here and asks fontconfig.
DEBIAN_CJK_FONT_FILES = (
    Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
)
PDF_STYLESHEET_TEMPLATE = "letters/pdf.css"

_per_thread = threading.local()


def harfbuzz_subset_available() -> bool:
    """True when WeasyPrint will subset fonts with HarfBuzz (fast) rather than fontTools (slow)."""
    from weasyprint.text.ffi import harfbuzz, harfbuzz_subset

    # WeasyPrint's own condition (weasyprint/pdf/fonts.py): the library loads and is >= 4.1.0.
    return harfbuzz_subset is not None and bool(harfbuzz.hb_version_atleast(4, 1, 0))


def missing_cjk_fonts() -> list[str]:
    """Names of the CJK font families fontconfig cannot resolve to themselves (empty when fine)."""
    from weasyprint.text.ffi import ffi, fontconfig

    missing = []
    for family in CJK_FONT_FAMILIES:
        pattern = fontconfig.FcPatternCreate()
        try:
            fontconfig.FcPatternAddString(pattern, b"family", family.encode())
            fontconfig.FcConfigSubstitute(ffi.NULL, pattern, fontconfig.FcMatchPattern)
            fontconfig.FcDefaultSubstitute(pattern)
            result = ffi.new("FcResult *")
            matched = fontconfig.FcFontMatch(ffi.NULL, pattern, result)
            found = ""
            if matched != ffi.NULL:
                value = ffi.new("FcChar8 **")
                if fontconfig.FcPatternGetString(matched, b"family", 0, value) == 0:
                    found = ffi.string(value[0]).decode()
                fontconfig.FcPatternDestroy(matched)
        finally:
            fontconfig.FcPatternDestroy(pattern)
        if found != family:
            missing.append(family)
    return missing


def _font_config():
    from weasyprint.text.fonts import FontConfiguration

    font_config = getattr(_per_thread, "font_config", None)
    if font_config is None:
        font_config = FontConfiguration()
        _per_thread.font_config = font_config
        _per_thread.stylesheets = {}
    return font_config


def _stylesheet(template_name: str):
    """The parsed stylesheet, cached per thread and re-read when the file changes (development)."""
    from weasyprint import CSS

    font_config = _font_config()
    origin = get_template(template_name).origin.name
    mtime = Path(origin).stat().st_mtime_ns
    cached = _per_thread.stylesheets.get(template_name)
    if cached is None or cached[0] != (origin, mtime):
        css = CSS(
            string=Path(origin).read_text(encoding="utf-8"),
            font_config=font_config,
            url_fetcher=_url_fetcher(),
        )
        cached = ((origin, mtime), css)
        _per_thread.stylesheets[template_name] = cached
    return cached[1]


def _url_fetcher():
    from weasyprint.urls import URLFetcher

    fetcher = getattr(_per_thread, "url_fetcher", None)
    if fetcher is None:
        fetcher = URLFetcher(allowed_protocols=("data",))
        _per_thread.url_fetcher = fetcher
    return fetcher


def render_html(*, template_name: str, context: dict, language: str | None = None) -> str:
    """The HTML the PDF is made from (also handy to look at in a browser while designing)."""
    with translation.override(language or translation.get_language()):
        return render_to_string(template_name, context)


def render_pdf(*, template_name: str, context: dict, language: str | None = None) -> bytes:
    """Render `template_name` with `context` to PDF bytes.

    `language` activates a translation for the template ("zh-hans" or "en"); None keeps the
    current one. Put `<meta name="dcterms.created" content="...">` in the template for a fixed
    creation date; nothing here reads the clock, so equal input gives equal bytes.
    """
    from weasyprint import HTML

    html = render_html(template_name=template_name, context=context, language=language)
    font_config = _font_config()
    document = HTML(string=html, url_fetcher=_url_fetcher(), base_url="data:,")
    return document.write_pdf(
        stylesheets=[_stylesheet(PDF_STYLESHEET_TEMPLATE)],
        font_config=font_config,
        pdf_identifier=False,
    )
