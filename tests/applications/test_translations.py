"""Both languages, complete: every founder-facing string of the application pages has Chinese,
the Chinese pages show no English from our templates, and the English pages no Chinese."""

import html
import json
import re
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import translation

from applications.services import status_link_for
from tests.factories import ApplicationFactory, CommitmentFactory, ProgramFactory

from .conftest import answers

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = [
    ROOT / "applications/locale/zh_Hans/LC_MESSAGES/django.po",
    ROOT / "locale/zh_Hans/LC_MESSAGES/django.po",
]
OUR_TEMPLATES = [
    *sorted((ROOT / "templates/applications").glob("*.html")),
    ROOT / "templates/base.html",
    ROOT / "templates/core/home.html",
]
CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")


def po_entries(path: Path) -> list[dict]:
    """msgid/msgstr pairs of a .po file (enough of the format for our catalogues)."""
    entries, current, key = [], None, None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if current and current.get("msgid"):
                entries.append(current)
            current = None
            continue
        current = current or {"flags": ""}
        if line.startswith("#,"):
            current["flags"] += line
        elif line.startswith("#"):
            continue
        elif match := re.match(r'^(msgid_plural|msgid|msgstr(?:\[0\])?)\s+(".*")$', line):
            key = match[1].replace("[0]", "")
            current[key] = json.loads(match[2])
        elif line.startswith('"'):
            current[key] += json.loads(line)
    return entries


def template_msgids(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    ids = set(re.findall(r'{%\s*translate\s+"([^"]+)"', text))
    for block in re.findall(
        r"{%\s*blocktranslate[^%]*%}(.*?){%\s*(?:plural|endblocktranslate)\s*%}", text, re.S
    ):
        ids.add(re.sub(r"{{\s*(\w+)\s*}}", r"%(\1)s", block))
    return ids


def visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    attributes = " ".join(re.findall(r'(?:aria-label|title|placeholder|alt)="([^"]*)"', page))
    return html.unescape(re.sub(r"<[^>]+>", " ", page) + " " + attributes)


def test_every_catalogue_entry_is_translated_and_not_fuzzy():
    for path in CATALOGUES:
        entries = po_entries(path)
        assert len(entries) > 10, path
        for entry in entries:
            assert entry.get("msgstr"), (path.name, entry["msgid"])
            assert "fuzzy" not in entry["flags"], entry["msgid"]


@pytest.mark.parametrize("path", OUR_TEMPLATES, ids=lambda p: p.name)
def test_every_string_in_our_templates_has_chinese(path):
    with translation.override("zh-hans"):
        for msgid in template_msgids(path):
            assert translation.gettext(msgid) != msgid, f"{path.name}: {msgid!r} has no Chinese"


def test_form_labels_hints_and_messages_have_chinese():
    from applications.forms import ApplicationForm

    with translation.override("zh-hans"):
        form = ApplicationForm()
        for name, field in form.fields.items():
            assert CJK.search(str(field.label)), name
            if field.help_text:
                assert CJK.search(str(field.help_text)), name
            for code, message in field.error_messages.items():
                if code in {"required", "invalid", "max_length", "min_value", "invalid_choice"}:
                    assert CJK.search(str(message)), (name, code, message)


def _english_fragments() -> set[str]:
    """Pieces of our English msgids long enough that they could only come from a missed translation."""
    fragments = set()
    for path in CATALOGUES:
        for entry in po_entries(path):
            for piece in re.split(r"%\(\w+\)s|%s|\n", entry["msgid"]):
                piece = piece.strip(" .,:;()“”")
                if len(piece) >= 4 and re.search(r"[A-Za-z]{3}", piece):
                    fragments.add(piece)
    return fragments


@pytest.fixture
def founder_pages(open_round):
    """The paths of every page a founder sees, plus the client that opened them."""

    def collect(language: str) -> dict[str, str]:
        cache.clear()
        english = language == "en"
        application = ApplicationFactory(
            round=open_round,
            language=language,
            company_legal_name="Lattice Labs Co., Ltd." if english else "武汉格点科技有限公司",
            founder_name="Li Wei" if english else "李伟",
            purpose="Train a small open model." if english else "训练一个小型开源模型。",
            status="needs_review",
            eligibility_reason_en="Exactly at the employee limit.",
            eligibility_reason_zh="员工人数恰好等于上限。",
        )
        CommitmentFactory(application=application)
        client = Client()
        status = (
            status_link_for(application)
            .replace("/zh-hans/", f"/{language}/")
            .replace("/en/", f"/{language}/")
        )
        token = status.rstrip("/").rsplit("/", 1)[1]
        data = answers(
            company_legal_name="Basalt Research Co., Ltd." if english else "贵阳玄武研究有限公司",
            founder_name="Li Wei" if english else "李伟",
            purpose="Fine-tune a speech model." if english else "微调一个语音模型。",
        )
        pages = {
            "home": client.get(f"/{language}/"),
            "apply": client.get(f"/{language}/apply/"),
            "apply_errors": client.post(f"/{language}/apply/", {"uscc": "123"}),
            "honeypot": client.post(f"/{language}/apply/", {"company_fax": "x"}),
        }
        client.post(f"/{language}/apply/", data)
        pages["check"] = client.get(f"/{language}/apply/check/")
        confirmation = client.post(f"/{language}/apply/check/", follow=True)
        pages["confirmation"] = confirmation
        pages["duplicate"] = Client().post(f"/{language}/apply/", data)
        pages["status"] = client.get(status)
        pages["withdraw"] = client.get(f"/{language}/status/{token}/withdraw/")
        pages["invalid_link"] = client.get(f"/{language}/status/bad-token/")
        pages["resend"] = client.get(f"/{language}/status/resend/")
        pages["resend_errors"] = client.post(f"/{language}/status/resend/", {})
        pages["resend_sent"] = client.get(f"/{language}/status/resend/sent/")
        with override_settings(APPLICATION_RATE_LIMIT_PER_HOUR=0):
            pages["rate_limited"] = client.post(
                f"/{language}/status/resend/", {"reference": "X", "email": "a@example.cn"}
            )
        for name, response in pages.items():
            assert response.status_code in {200, 400, 404, 409, 429}, name
        return {name: response.content.decode() for name, response in pages.items()}

    return collect


def test_the_chinese_pages_show_no_english_from_our_templates(founder_pages):
    fragments = _english_fragments()
    pages = founder_pages("zh-hans")
    for name, page in pages.items():
        assert '<html lang="zh-hans">' in page, name
        text = visible_text(page)
        leaked = sorted(f for f in fragments if f in text)
        assert not leaked, f"{name} shows untranslated English: {leaked}"
    assert "错误：" in pages["apply_errors"]
    assert "（选填）" in pages["apply"]
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", pages["status"])  # dates like 2026年12月1日


def test_the_english_pages_show_no_chinese(founder_pages):
    for name, page in founder_pages("en").items():
        assert '<html lang="en">' in page, name
        text = visible_text(page).replace("中文", "")  # the language switch names itself
        leaked = CJK.findall(text)
        assert not leaked, f"{name} shows Chinese in the English page: {''.join(leaked)[:80]}"


def test_the_home_page_program_names_follow_the_language(client, open_round):
    ProgramFactory()
    assert "Wuhan 2026 round 2" in client.get("/en/").content.decode()
    assert "武汉2026年第二轮" in client.get("/zh-hans/").content.decode()


def test_the_language_link_leads_to_the_same_page_in_the_other_language(client, open_round):
    application = ApplicationFactory(round=open_round, language="zh-hans")
    status = status_link_for(application)
    assert status.startswith("/zh-hans/status/")
    for path in ["/zh-hans/", "/zh-hans/apply/?round=wuhan-2026-r2", status]:
        page = client.get(path, HTTP_ACCEPT_LANGUAGE="en-US").content.decode()
        english = path.replace("/zh-hans/", "/en/", 1)
        assert f'href="{html.escape(english)}" lang="en" hreflang="en"' in page, path
        back = client.get(english).content.decode()
        assert f'href="{html.escape(path)}" lang="zh-hans"' in back, path
