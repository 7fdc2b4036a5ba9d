"""letters.rendering.render_pdf: what a reader of a grant letter or receipt can check in the file."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pypdf import PdfReader

from letters import rendering
from letters.content import content_fingerprint, fingerprint_grouped
from letters.qr import qr_png, qr_svg_data_uri
from letters.samples import sample_letter_facts
from tests.letters.pdftools import (
    pdf_pages_as_png,
    pdffonts,
    pdftotext,
    pypdf_text,
    squeeze,
    zbarimg,
)

VERIFY_URL = "http://127.0.0.1:8000/letters/verify/?code=K7QM-4XPR-9HTD"


def letter_context(facts: dict, url: str = VERIFY_URL) -> dict:
    return {
        "facts": facts,
        "fingerprint": content_fingerprint(facts),
        "verify_url": url,
        "qr_svg": qr_svg_data_uri(url),
    }


@pytest.fixture(scope="module")
def bilingual_letter() -> bytes:
    facts = sample_letter_facts()
    return rendering.render_pdf(
        template_name="letters/grant_letter.html", context=letter_context(facts)
    )


def test_pdf_is_a_pdf(bilingual_letter):
    assert bilingual_letter.startswith(b"%PDF-")
    assert bilingual_letter.rstrip().endswith(b"%%EOF")


@pytest.mark.parametrize("extract", [pdftotext, pypdf_text], ids=["pdftotext", "pypdf"])
def test_chinese_company_name_and_amounts_are_extractable(bilingual_letter, extract):
    """Both poppler and pypdf read back the Chinese legal name, USCC, amounts and dates."""
    text = squeeze(extract(bilingual_letter))
    facts = sample_letter_facts()
    assert squeeze(facts["grantee"]["legal_name"]) in text
    assert "深圳市星河智算科技有限公司" in text
    assert "91310110666007217T" in text
    assert "12,000" in text  # total
    assert "4,000" in text  # a tranche
    assert "GPU小时" in text
    assert "2026年12月1日" in text
    assert "2027年11月30日" in text
    assert "公开发布模型权重" in text
    assert "sz-ai-2026-winter" in text
    assert "K7QM-4XPR-9HTD" in text
    assert "算力资助通知书" in text
    assert "Computegrantletter" in text


def test_fonts_are_the_named_noto_cjk_fonts_embedded_and_subset(bilingual_letter):
    fonts = pdffonts(bilingual_letter)
    names = {font["name"].split("+", 1)[-1] for font in fonts}
    assert "Noto-Serif-CJK-SC" in names
    assert "Noto-Sans-CJK-SC-Bold" in names
    # Nothing fell back to another family (DejaVu, Droid, a JP/KR cut of Noto CJK).
    assert all("CJK-SC" in name for name in names), names
    for font in fonts:
        assert font["emb"] == "yes", font
        assert font["sub"] == "yes", font
        assert font["uni"] == "yes", font  # a ToUnicode map: the reason the text is extractable
        assert "+" in font["name"], font  # the six-letter subset tag


def test_qr_code_printed_in_the_pdf_decodes_to_the_verification_url(bilingual_letter):
    """Rasterise the letter like a phone camera would see it and read the QR with zbarimg."""
    found = [payload for page in pdf_pages_as_png(bilingual_letter) for payload in zbarimg(page)]
    assert found == [VERIFY_URL]


def test_segno_png_rendering_of_the_qr_decodes_to_the_url():
    assert zbarimg(qr_png(VERIFY_URL)) == [VERIFY_URL]


def test_fingerprint_of_the_facts_is_printed(bilingual_letter):
    facts = sample_letter_facts()
    printed = squeeze(pdftotext(bilingual_letter))
    assert squeeze(fingerprint_grouped(content_fingerprint(facts))) in printed


def test_same_facts_give_the_same_bytes_and_changed_facts_do_not(bilingual_letter):
    """Deterministic output: no clock and no random file id, so a re-render hashes the same."""
    facts = sample_letter_facts()
    again = rendering.render_pdf(
        template_name="letters/grant_letter.html", context=letter_context(facts)
    )
    assert again == bilingual_letter

    facts["amount"] = Decimal("12001")
    changed = rendering.render_pdf(
        template_name="letters/grant_letter.html", context=letter_context(facts)
    )
    assert changed != bilingual_letter


def test_creation_date_is_the_issue_date_not_the_render_time(bilingual_letter):
    metadata = PdfReader(io.BytesIO(bilingual_letter)).metadata
    assert metadata.creation_date == datetime(2026, 12, 1, tzinfo=timezone(timedelta(hours=8)))


def test_revocation_letter_says_so():
    facts = sample_letter_facts()
    facts["kind"] = "revocation"
    facts["version"] = 3
    pdf = rendering.render_pdf(
        template_name="letters/grant_letter.html", context=letter_context(facts)
    )
    text = squeeze(pdftotext(pdf))
    assert "本资助已撤销" in text
    assert "Thisgranthasbeenrevoked" in text
    assert "第3版" in text


def test_markup_in_a_company_name_is_printed_not_interpreted():
    """A founder-typed name cannot inject HTML (or make the renderer fetch a file)."""
    facts = sample_letter_facts()
    facts["grantee"]["legal_name"] = '<img src="file:///etc/passwd">恶意公司'
    pdf = rendering.render_pdf(
        template_name="letters/grant_letter.html", context=letter_context(facts)
    )
    text = pdftotext(pdf)
    assert '<img src="file:///etc/passwd">恶意公司' in text


def test_receipt_renders_from_a_plain_context():
    context = {
        "application": {
            "reference": "SL-2026-7KQ3",
            "company_legal_name": "杭州深度求索人工智能基础技术研究有限公司",
            "uscc": "91230184MA1BUFLT44",
            "submitted_at": datetime(2026, 11, 20, 2, 30, tzinfo=UTC),
            "gpu_hours_requested": 5000,
            "round": {
                "title_zh": "2026年冬季算力券申请轮次",
                "title_en": "2026 winter compute voucher round",
                "closes_at": datetime(2026, 11, 30, 15, 59, tzinfo=UTC),
                "program": {
                    "name_zh": "深圳市人工智能算力券计划",
                    "name_en": "Shenzhen AI Compute Voucher Scheme",
                    "contact_email": "compute@sz.example.cn",
                },
            },
        }
    }
    pdf = rendering.render_pdf(template_name="letters/application_receipt.html", context=context)
    for extract in (pdftotext, pypdf_text):
        text = squeeze(extract(pdf))
        assert "杭州深度求索人工智能基础技术研究有限公司" in text
        assert "SL-2026-7KQ3" in text
        assert "2026年冬季算力券申请轮次" in text
        # 02:30 UTC is 10:30 in Shanghai, the portal's time zone.
        assert "2026年11月20日10:30" in text
        assert "5,000" in text
        assert "2026年11月30日" in text  # round closes 23:59 Shanghai time
    assert all(font["emb"] == "yes" and font["sub"] == "yes" for font in pdffonts(pdf))


def test_harfbuzz_subsetting_is_available_on_this_machine():
    """setup.sh installs libharfbuzz-subset0; without it letters take seconds each."""
    assert rendering.harfbuzz_subset_available() is True


def test_named_cjk_fonts_resolve_through_fontconfig():
    assert rendering.missing_cjk_fonts() == []
    original = rendering.CJK_FONT_FAMILIES
    try:
        rendering.CJK_FONT_FAMILIES = ("Noto Serif CJK SC", "No Such Font Family SC")
        assert rendering.missing_cjk_fonts() == ["No Such Font Family SC"]
    finally:
        rendering.CJK_FONT_FAMILIES = original
