"""A comparison key for company names, to spot the same company applying twice under two USCCs.

Django-free. "武汉深度求知科技有限公司" and "武汉 深度求知科技 有限责任公司" give the same key;
so do "Lattice Labs Co., Ltd." and "LATTICE LABS LTD"."""

import re
import unicodedata

# Legal-form words at the end of a name say nothing about which company it is.
LEGAL_FORM_SUFFIXES = (
    "股份有限公司", "有限责任公司", "有限公司", "集团", "公司",
    "coltd", "limited", "ltd", "inc", "llc", "co", "corp", "corporation", "company",
)  # fmt: skip
_NOT_WORD = re.compile(r"[\W_]+")


def company_name_key(name: str) -> str:
    text = _NOT_WORD.sub("", unicodedata.normalize("NFKC", name or "").casefold())
    stripped = True
    while stripped:
        stripped = False
        for suffix in LEGAL_FORM_SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)]
                stripped = True
    return text
