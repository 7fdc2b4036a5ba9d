"""letters.demo: demo grants get a verifiable letter once, however often the demo is loaded."""

import io

import pytest

from letters.demo import load_demo
from letters.models import GrantLetter
from tests.letters.factories import make_grant

pytestmark = pytest.mark.django_db


def test_demo_renders_each_grant_letter_once(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    accepted = make_grant(status="accepted")
    make_grant(status="offered", legal_name="尚未接受公司")
    load_demo(io.StringIO())
    load_demo(out := io.StringIO())
    letters = GrantLetter.objects.all()
    assert [letter.grant_id for letter in letters] == [accepted.pk]
    assert letters[0].state == GrantLetter.State.CURRENT
    assert "0 letters rendered" in out.getvalue()
