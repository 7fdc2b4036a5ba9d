"""Shared factories for the core models. Each app may keep its own in tests/<app>/factories.py."""

import datetime as dt
import random

import factory
from django.utils import timezone

from applications.company_names import company_name_key
from applications.models import Application, CityProgram, Commitment, Round
from applications.uscc import ALPHABET, make_valid
from centers.models import Center, GpuType


def valid_uscc(seed: int) -> str:
    rng = random.Random(seed)
    body = (
        "91"
        + "".join(rng.choice("0123456789") for _ in range(6))
        + "".join(rng.choice(ALPHABET) for _ in range(9))
    )
    return make_valid(body)


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CityProgram
        django_get_or_create = ("code",)

    code = "wuhan"
    name_zh = "武汉市算力券计划"
    name_en = "Wuhan Compute Voucher Program"
    city_zh = "武汉"
    city_en = "Wuhan"
    contact_email = "suanli@wuhan.example.cn"


class RoundFactory(factory.django.DjangoModelFactory):
    """An open round by default: opened a day ago, closes in two weeks."""

    class Meta:
        model = Round

    program = factory.SubFactory(ProgramFactory)
    code = factory.Sequence(lambda n: f"test-round-{n}")
    title_zh = factory.Sequence(lambda n: f"测试第{n}轮")
    title_en = factory.Sequence(lambda n: f"Test round {n}")
    opens_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
    closes_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=14))
    gpu_hours_on_offer = 100_000
    grant_min_gpu_hours = 100
    grant_max_gpu_hours = 5_000
    winners = 3
    max_employees = 49
    max_company_age_years = 10
    eligible_cities = factory.LazyFunction(list)


class CenterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Center
        django_get_or_create = ("code",)

    code = "wuhan-ai"
    name_zh = "武汉人工智能计算中心"
    name_en = "Wuhan AI Computing Center"
    city_zh = "武汉"
    city_en = "Wuhan"


class GpuTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GpuType
        django_get_or_create = ("center", "code")

    center = factory.SubFactory(CenterFactory)
    code = "ascend-910b"
    name = "Ascend 910B"
    unit = GpuType.Unit.GPU_HOURS


class ApplicationFactory(factory.django.DjangoModelFactory):
    """An eligible application inserted directly (tests of the submit flow use the service)."""

    class Meta:
        model = Application

    reference = factory.Sequence(lambda n: f"TS26-{n:04d}-TEST-{n % 9973:04d}")
    round = factory.SubFactory(RoundFactory)
    company_legal_name = factory.Sequence(lambda n: f"测试智能科技有限公司{n}")
    company_name_key = factory.LazyAttribute(lambda o: company_name_key(o.company_legal_name))
    uscc = factory.Sequence(valid_uscc)
    registration_city = "wuhan"
    founded_on = dt.date(2024, 3, 1)
    employees = 12
    revenue_band = Application.RevenueBand.PRE_REVENUE
    website = ""
    founder_name = "张伟"
    email = factory.Sequence(lambda n: f"founder{n}@example.cn")
    mobile = "+8613800138000"
    gpu_hours_requested = 1000
    purpose = "训练一个面向中文法律文书的小模型。"
    consent_terms = True
    consent_publish_name = True
    language = "zh-hans"
    status = Application.Status.ELIGIBLE


class CommitmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Commitment

    application = factory.SubFactory(ApplicationFactory)
    kind = Commitment.Kind.OPEN_WEIGHTS
    target_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=120))
