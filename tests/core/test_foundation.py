"""The foundation a newcomer relies on: settings, health, groups, demo data."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from applications.models import Application, Round
from centers.models import Center


def test_health_endpoint_answers_when_the_database_answers(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_staff_groups_exist_after_migrate(db):
    assert set(Group.objects.values_list("name", flat=True)) >= {
        "Reviewers",
        "Allocators",
        "Auditors",
    }


def test_auditors_may_view_everything_and_change_nothing(db):
    auditors = Group.objects.get(name="Auditors")
    codenames = set(auditors.permissions.values_list("codename", flat=True))
    assert "view_application" in codenames
    assert "view_auditevent" in codenames
    assert not any(c.startswith(("add_", "change_", "delete_")) for c in codenames)


@pytest.mark.django_db
def test_demo_command_fills_an_empty_database_and_adds_nothing_the_second_time(capsys):
    call_command("demo")
    counts = (Center.objects.count(), Round.objects.count(), Application.objects.count())
    assert counts[0] == 3
    assert counts[1] >= 2
    assert counts[2] >= 24
    call_command("demo")
    assert (Center.objects.count(), Round.objects.count(), Application.objects.count()) == counts


def test_home_page_lists_open_rounds_in_both_languages(client, db):
    call_command("demo")
    zh = client.get("/zh-hans/")
    en = client.get("/en/")
    assert "武汉2026年第二轮" in zh.content.decode()
    assert "Wuhan 2026 round 2" in en.content.decode()
    assert '<html lang="en">' in en.content.decode()
