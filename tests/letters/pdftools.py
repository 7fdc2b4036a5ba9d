"""Read PDFs the way a reader's tools do: poppler's pdftotext/pdffonts/pdftoppm, pypdf, zbarimg."""

from __future__ import annotations

import io
import re
import subprocess
import tempfile
from pathlib import Path

from pypdf import PdfReader


def pdftotext(pdf: bytes) -> str:
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return result.stdout.decode("utf-8")


def pypdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def pdffonts(pdf: bytes) -> list[dict]:
    """One dict per font: name, type, emb, sub, uni (poppler's own columns)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "letter.pdf"
        path.write_bytes(pdf)
        output = subprocess.run(
            ["pdffonts", str(path)], capture_output=True, check=True, text=True
        ).stdout
    fonts = []
    for line in output.splitlines()[2:]:
        # name, type (may contain spaces), encoding, emb, sub, uni, object, id
        match = re.match(
            r"^(\S+)\s+(.+?)\s+(\S+)\s+(yes|no)\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+$", line
        )
        assert match, f"unexpected pdffonts line: {line!r}"
        name, font_type, _encoding, emb, sub, uni = match.groups()
        fonts.append({"name": name, "type": font_type, "emb": emb, "sub": sub, "uni": uni})
    return fonts


def zbarimg(png: bytes) -> list[str]:
    """Every QR payload zbarimg finds in a PNG."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "image.png"
        path.write_bytes(png)
        result = subprocess.run(
            ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(path)],
            capture_output=True,
            text=True,
        )
    return [line for line in result.stdout.splitlines() if line]


def pdf_pages_as_png(pdf: bytes, *, dpi: int = 200) -> list[bytes]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "letter.pdf"
        path.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-png", str(path), str(Path(folder) / "page")],
            check=True,
            capture_output=True,
        )
        return [page.read_bytes() for page in sorted(Path(folder).glob("page-*.png"))]


def squeeze(text: str) -> str:
    """Text without any whitespace: extractors break lines and insert spaces in CJK differently."""
    return re.sub(r"\s+", "", text)
