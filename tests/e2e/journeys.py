"""What every journey step does: check the page (right `lang`, zero axe-core violations, no
sideways scrolling at 320 px) and keep a screenshot of it at 320 px and at 1280 px, so a person
can read what the founder, the staff member or the visitor saw (a CI artefact).

Screenshots: var/e2e-screenshots/<journey>/<language>/<NN>-<step>-<width>.jpg (the folder can be
moved with SUANLI_E2E_SCREENSHOTS). Each journey run replaces its own folder."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from playwright.sync_api import Page

from .conftest import DESKTOP, NARROW, ROOT, assert_accessible, assert_reflows

SCREENSHOTS = Path(os.environ.get("SUANLI_E2E_SCREENSHOTS") or ROOT / "var" / "e2e-screenshots")
WIDTHS = [NARROW, DESKTOP["width"]]
# JPEG, not PNG: half the encoding time on long pages, and text stays readable at this quality.
SCREENSHOT_QUALITY = 85


class Journey:
    def __init__(self, page: Page, *, name: str, language: str) -> None:
        self.page = page
        self.language = language
        self.folder = SCREENSHOTS / name / language
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.steps = 0

    def step(self, name: str, *, page: Page | None = None, language: str | None = None) -> None:
        """Check the page as it is now and keep its screenshots at both widths (the 320 px one
        is taken where the reflow is checked, so the page is laid out at each width once)."""
        page = page or self.page
        language = language or self.language
        assert page.locator("html").get_attribute("lang") == language, page.url
        assert_accessible(page)
        self.steps += 1
        size = page.viewport_size or DESKTOP
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": size["height"]})
            if width == NARROW:
                assert_reflows(page)
            page.screenshot(
                path=self.folder / f"{self.steps:02d}-{name}-{width}.jpg",
                full_page=True,
                type="jpeg",
                quality=SCREENSHOT_QUALITY,
            )
        page.set_viewport_size(size)


def pdf_text(path: Path) -> str:
    """The text a reader sees in a PDF (poppler's pdftotext, installed by scripts/setup.sh)."""
    result = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.stdout
