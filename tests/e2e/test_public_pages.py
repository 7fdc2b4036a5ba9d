"""The public pages, in both languages: right `lang`, zero axe-core violations, reflow at 320 px."""

import pytest

from tests.factories import CenterFactory, RoundFactory

from .conftest import check_page

LANGUAGES = ["zh-hans", "en"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_home_page(new_page, transactional_db, language):
    RoundFactory(title_zh="武汉第一轮", title_en="Wuhan round one")
    CenterFactory()
    page = new_page()
    page.goto(f"/{language}/")
    check_page(page, language=language)
    # The open round is offered with a way in.
    round_title = "武汉第一轮" if language == "zh-hans" else "Wuhan round one"
    page.get_by_role("link", name=round_title).click()
    assert page.url.split("?")[0].endswith(f"/{language}/apply/")


@pytest.mark.parametrize("language", LANGUAGES)
def test_letters_verify_page(new_page, transactional_db, language):
    page = new_page()
    page.goto(f"/{language}/letters/verify/")
    check_page(page, language=language)
