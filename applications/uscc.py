"""Unified Social Credit Code (统一社会信用代码, GB 32100-2015): normalise and verify.

Django-free, so the API, the form, the demo data and any outside script share one rule."""

import unicodedata
from dataclasses import dataclass

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
VALUES = {character: value for value, character in enumerate(ALPHABET)}
WEIGHTS = [pow(3, position, 31) for position in range(17)]  # 3^(i-1) mod 31 for i = 1..17
LENGTH = 18


@dataclass(frozen=True)
class UsccError(ValueError):
    """Why a code is not valid; `code` tells the kind of mistake, for a message in any language."""

    code: str  # "empty" | "length" | "character" | "check"
    length: int = 0
    character: str = ""
    expected: str = ""


def normalise(raw: str) -> str:
    """Full-width characters become ASCII (NFKC); spaces and hyphens go; letters become capitals."""
    text = unicodedata.normalize("NFKC", raw or "")
    return "".join(c for c in text if not c.isspace() and c not in "-‐‑–—_").upper()


def check_character(first_seventeen: str) -> str:
    total = sum(VALUES[c] * w for c, w in zip(first_seventeen, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def validate(raw: str) -> str:
    """Return the normalised code, or raise UsccError saying what is wrong."""
    code = normalise(raw)
    if not code:
        raise UsccError("empty")
    if len(code) != LENGTH:
        raise UsccError("length", length=len(code))
    for character in code:
        if character not in VALUES:
            raise UsccError("character", character=character)
    expected = check_character(code[:17])
    if code[17] != expected:
        raise UsccError("check", expected=expected)
    return code


def make_valid(first_seventeen: str) -> str:
    """Complete 17 characters with their check character (demo data and tests)."""
    return first_seventeen + check_character(first_seventeen)
