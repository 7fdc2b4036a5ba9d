"""The Unified Social Credit Code check (GB 32100-2015) and the messages founders see."""

import pytest
from django.utils import translation

from applications import uscc
from applications.forms import uscc_message


@pytest.mark.parametrize("code", ["91230184MA1BUFLT44", "91310110666007217T"])
def test_real_codes_are_valid(code):
    assert uscc.validate(code) == code


@pytest.mark.parametrize(
    "typed",
    [
        "９１２３０１８４ＭＡ１ＢＵＦＬＴ４４",  # full-width, as a Chinese input method types it
        "91230184-MA1B-UFLT44",
        " 9123 0184 ma1b uflt44 ",
        "91230184ＭＡ1BUFLT44",
    ],
)
def test_forgiving_input_is_normalised_to_the_printed_code(typed):
    assert uscc.validate(typed) == "91230184MA1BUFLT44"


def test_wrong_length_says_how_many_characters_were_entered():
    with pytest.raises(uscc.UsccError) as caught:
        uscc.validate("91230184MA1BUFLT4")
    assert caught.value.code == "length"
    assert caught.value.length == 17
    with translation.override("en"):
        assert "must be 18 characters; you entered 17" in uscc_message(caught.value)
    with translation.override("zh-hans"):
        assert "18 位" in uscc_message(caught.value) and "17" in uscc_message(caught.value)


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_a_letter_never_used_is_named(letter):
    code = "91230184MA1BUFLT44"
    with pytest.raises(uscc.UsccError) as caught:
        uscc.validate(code[:10] + letter + code[11:])
    assert caught.value.code == "character"
    assert caught.value.character == letter
    with translation.override("en"):
        assert f"never contains “{letter}”" in uscc_message(caught.value)


def test_a_typo_is_caught_by_the_check_character():
    with pytest.raises(uscc.UsccError) as caught:
        uscc.validate("91230184MA1BUFLT45")
    assert caught.value.code == "check"
    assert caught.value.expected == "4"
    with translation.override("en"):
        assert "does not match" in uscc_message(caught.value)


def test_swapping_two_characters_is_caught():
    with pytest.raises(uscc.UsccError) as caught:
        uscc.validate("91310110666007271T")
    assert caught.value.code == "check"


def test_empty_input_asks_for_the_code():
    with pytest.raises(uscc.UsccError) as caught:
        uscc.validate("  -  ")
    assert caught.value.code == "empty"


def test_check_character_31_means_zero():
    # Find a body whose weighted sum is 0 mod 31: its check character must be "0", not "Y"+1.
    body = "0" * 17
    assert uscc.check_character(body) == "0"
    assert uscc.validate(body + "0") == "0" * 18
