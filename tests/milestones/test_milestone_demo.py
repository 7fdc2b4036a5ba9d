"""The demo shows a milestone verified by staff and one waiting for its check; twice is once."""

import io

import pytest

from milestones.demo import load_demo
from milestones.models import Milestone

from .factories import accepted_grant

pytestmark = pytest.mark.django_db


def test_demo_milestones_are_loaded_once(staff_user):
    grant = accepted_grant(kinds=("open_code", "paper"))
    out = io.StringIO()
    load_demo(out)
    load_demo(out)
    states = sorted(grant.milestones.exclude(tranche=None).values_list("state", flat=True))
    assert states == ["submitted", "verified"]
    assert Milestone.objects.filter(evidence_revision__gt=0).count() == 2
    verified = grant.milestones.get(state="verified")
    assert verified.tranche.state == "released"
    assert out.getvalue().count("verified by staff") == 1
