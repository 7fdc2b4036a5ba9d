"""QR codes for the verification block (segno: pure Python, no image library needed for SVG)."""

from __future__ import annotations

import io

import segno


def qr_code(url: str) -> segno.QRCode:
    # Level M survives a fold or a coffee ring on a printed letter; the URL stays short.
    return segno.make(url, error="m", micro=False)


def qr_svg_data_uri(url: str) -> str:
    """The QR as an SVG data: URI for <img> in the PDF template (vector, sharp when printed)."""
    return qr_code(url).svg_data_uri(scale=4, border=2, dark="#0b0c0c")


def qr_png(url: str, *, scale: int = 8) -> bytes:
    buffer = io.BytesIO()
    qr_code(url).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
