"""What a letter says, as plain data, and the fingerprint printed on it. No Django here.

A PDF cannot contain the SHA-256 of its own bytes (writing the hash changes the bytes). So a
letter carries two things that anyone can check:

- the *content fingerprint* printed on the letter: SHA-256 of the letter's facts (grantee, USCC,
  amounts, tranches, dates, draw, verification code) in the canonical JSON below. The
  verification page shows the same fingerprint from the issued record, so a reader comparing
  the printed value sees whether the facts on the paper are the facts the program issued.
- the *file SHA-256* of the PDF exactly as issued, which is stored and shown on the verification
  page (not printed). Uploading a PDF there compares its SHA-256 with every issued version, so a
  file changed by even one byte does not verify.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import unicodedata
from datetime import date, datetime
from decimal import Decimal

LETTER_SCHEMA = "suanli-letter/1"

# Crockford's base32: digits and capitals without I, L, O, U, which people misread or mistype.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12
CODE_GROUP = 4
_CODE_CONFUSABLES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def verification_code_new() -> str:
    """A random code like 'K7QM-4XPR-9HTD': 60 bits, read aloud or typed without confusion."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return verification_code_format(raw)


def verification_code_format(raw: str) -> str:
    return "-".join(raw[i : i + CODE_GROUP] for i in range(0, len(raw), CODE_GROUP))


def verification_code_normalize(text: str) -> str | None:
    """Forgiving input: full-width characters, lower case, spaces, hyphens, O for 0, I/L for 1.

    Returns the canonical grouped form, or None when it cannot be a code.
    """
    cleaned = unicodedata.normalize("NFKC", text or "").upper()
    cleaned = re.sub(r"[\s\-_.·—]+", "", cleaned).translate(_CODE_CONFUSABLES)
    if len(cleaned) != CODE_LENGTH or any(char not in CODE_ALPHABET for char in cleaned):
        return None
    return verification_code_format(cleaned)


def _plain(value):
    """JSON-native form of a fact, the same on every machine (amounts as exact decimal strings)."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        normalized = value.normalize()
        # normalize() turns 12000 into 1.2E+4; fixed-point keeps it readable and canonical.
        return format(normalized, "f")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def canonical_facts(facts: dict) -> dict:
    return _plain(facts)


def canonical_json(facts: dict) -> bytes:
    """The exact bytes the content fingerprint is computed over."""
    return json.dumps(
        canonical_facts(facts), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")


def content_fingerprint(facts: dict) -> str:
    return hashlib.sha256(canonical_json(facts)).hexdigest()


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fingerprint_grouped(hex_digest: str, group: int = 8) -> str:
    """64 hex digits in groups of 8, so a person can compare them by eye."""
    return " ".join(hex_digest[i : i + group] for i in range(0, len(hex_digest), group))


# What each tranche's milestone is called on the letter, in both languages at once. Kept here
# rather than taken from translations so the printed letter never depends on a compiled catalog.
MILESTONE_LABELS = {
    "acceptance": ("接受资助", "Acceptance of the grant"),
    "open_weights": ("公开发布模型权重", "Open-source model weights published"),
    "open_code": ("公开发布源代码", "Open-source code published"),
    "paper": ("发表论文或技术报告", "Paper or technical report published"),
    "product_launch": ("产品上线", "Product launched"),
}


def milestone_labels(kind: str) -> tuple[str, str]:
    return MILESTONE_LABELS.get(kind, (kind, kind))
