"""Eligibility: the round's rules applied by code at submission, and the outcome kept."""

import datetime as dt

import pytest
from django.utils import timezone

from applications import eligibility
from applications.models import Application
from applications.services import CommitmentInput, application_submit
from tests.factories import ApplicationFactory, CenterFactory, RoundFactory

RULES = eligibility.Rules(max_employees=49, max_company_age_years=5, eligible_cities=("wuhan",))
TODAY = dt.date(2026, 11, 28)


def facts(**overrides):
    values = {"employees": 12, "founded_on": dt.date(2024, 3, 1), "registration_city": "wuhan"}
    values.update(overrides)
    return eligibility.Facts(**values)


def test_a_small_young_company_in_an_eligible_city_is_eligible():
    outcome = eligibility.assess(facts=facts(), rules=RULES, today=TODAY)
    assert outcome.status == eligibility.ELIGIBLE
    assert outcome.rule == ""


@pytest.mark.parametrize(
    ("overrides", "rule"),
    [
        ({"employees": 50}, "max_employees"),
        ({"registration_city": "beijing"}, "city"),
        ({"founded_on": dt.date(2020, 1, 1)}, "max_company_age"),
        ({"founded_on": dt.date(2027, 1, 1)}, "founded_in_future"),
    ],
)
def test_a_failed_rule_makes_the_company_ineligible_and_says_which_in_both_languages(
    overrides, rule
):
    outcome = eligibility.assess(facts=facts(**overrides), rules=RULES, today=TODAY)
    assert outcome.status == eligibility.INELIGIBLE
    assert outcome.rule == rule
    assert outcome.reason_en and outcome.reason_zh
    assert outcome.reason_en != outcome.reason_zh


@pytest.mark.parametrize(
    ("overrides", "rule"),
    [
        ({"employees": 49}, "employees_boundary"),
        ({"founded_on": dt.date(2021, 12, 10)}, "company_age_boundary"),
        ({"similar_name_in_round": True}, "similar_name"),
    ],
)
def test_boundary_cases_go_to_staff(overrides, rule):
    outcome = eligibility.assess(facts=facts(**overrides), rules=RULES, today=TODAY)
    assert outcome.status == eligibility.NEEDS_REVIEW
    assert outcome.rule == rule


def test_every_city_is_eligible_when_the_round_lists_none():
    rules = eligibility.Rules(max_employees=49, max_company_age_years=None, eligible_cities=())
    outcome = eligibility.assess(facts=facts(registration_city="other"), rules=rules, today=TODAY)
    assert outcome.status == eligibility.ELIGIBLE


def _submit(round_, **overrides):
    values = {
        "round": round_,
        "company_legal_name": "武汉深度求知科技有限公司",
        "uscc": "91230184MA1BUFLT44",
        "registration_city": "wuhan",
        "founded_on": dt.date(2024, 3, 1),
        "employees": 12,
        "revenue_band": "pre_revenue",
        "website": "",
        "founder_name": "张伟",
        "email": "zhang@example.cn",
        "mobile": "+8613800138000",
        "preferred_centers": [CenterFactory()],
        "gpu_hours_requested": 1000,
        "purpose": "训练模型",
        "commitments": [CommitmentInput("paper", timezone.localdate() + dt.timedelta(days=100))],
        "consent_terms": True,
        "consent_publish_name": False,
        "language": "zh-hans",
    }
    values.update(overrides)
    return application_submit(**values)


@pytest.mark.django_db
def test_the_service_stores_the_outcome_with_both_reasons():
    round_ = RoundFactory(eligible_cities=["wuhan"])
    application = _submit(round_, registration_city="beijing")
    assert application.status == Application.Status.INELIGIBLE
    assert application.eligibility_rule == "city"
    assert "Beijing" in application.eligibility_reason_en
    assert "北京" in application.eligibility_reason_zh


@pytest.mark.django_db
def test_a_duplicate_looking_name_in_the_round_needs_review():
    round_ = RoundFactory()
    ApplicationFactory(round=round_, company_legal_name="武汉 深度求知科技 有限公司")
    application = _submit(round_, company_legal_name="武汉深度求知科技有限公司")
    assert application.status == Application.Status.NEEDS_REVIEW
    assert application.eligibility_rule == "similar_name"


@pytest.mark.django_db
def test_a_duplicate_company_raises_and_keeps_one_row():
    from applications.services import DuplicateApplication

    round_ = RoundFactory()
    first = _submit(round_)
    with pytest.raises(DuplicateApplication) as caught:
        _submit(round_, email="other@example.cn")
    assert caught.value.existing == first
    assert Application.objects.count() == 1


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("武汉深度求知科技有限公司", "武汉 深度求知科技 有限责任公司", True),
        ("Lattice Labs Co., Ltd.", "LATTICE LABS LTD", True),
        ("ＡＢＣ智能（武汉）有限公司", "abc智能(武汉)公司", True),
        # A legal-form character inside the name is part of the name.
        ("公正法律智能有限公司", "正法律智能有限公司", False),
        ("星河语义", "星河语意", False),
    ],
)
def test_company_name_key_ignores_legal_form_spacing_and_width_only(first, second, same):
    from applications.company_names import company_name_key

    assert (company_name_key(first) == company_name_key(second)) is same


@pytest.mark.django_db
def test_a_different_name_in_the_round_does_not_need_review():
    round_ = RoundFactory()
    ApplicationFactory(round=round_, company_legal_name="公正法律智能有限公司")
    application = _submit(round_, company_legal_name="正法律智能有限公司")
    assert application.eligibility_rule != "similar_name"
