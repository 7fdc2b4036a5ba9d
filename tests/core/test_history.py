"""Each record's history is its own, with the manager class built once per process."""

import pytest

from applications.models import Application
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db


def test_each_application_shows_only_its_own_changes_newest_first():
    first, second = ApplicationFactory(employees=5), ApplicationFactory(employees=7)
    for employees in (12, 13):
        first.employees = employees
        first.save()
    assert [row.employees for row in first.history.all()] == [13, 12, 5]
    assert [row.employees for row in second.history.all()] == [7]
    # On the model, the manager lists every record's rows.
    assert sorted(row.employees for row in Application.history.all()) == [5, 7, 12, 13]
    assert first.history.earliest().instance.employees == 5
