"""Fixtures for the founder's journey: an open round, active centers, valid answers."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from tests.factories import CenterFactory, RoundFactory

VALID_USCC = "91230184MA1BUFLT44"
OTHER_VALID_USCC = "91310110666007217T"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate limits live in the cache; each test starts with a clean count."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def centers(db):
    return [
        CenterFactory(
            code="wuhan-ai", name_zh="武汉人工智能计算中心", name_en="Wuhan AI Computing Center"
        ),
        CenterFactory(
            code="qingyang-dc",
            name_zh="庆阳东数西算数据中心",
            name_en="Qingyang Data Center",
            city_zh="庆阳",
            city_en="Qingyang",
        ),
    ]


@pytest.fixture
def open_round(db, centers):
    return RoundFactory(
        code="wuhan-2026-r2", title_zh="武汉2026年第二轮", title_en="Wuhan 2026 round 2"
    )


def answers(round_code: str = "wuhan-2026-r2", **overrides) -> dict:
    """What a founder types into the one-page form (as the browser sends it)."""
    target = (timezone.localdate() + dt.timedelta(days=180)).isoformat()
    data = {
        "company_legal_name": "武汉深度求知科技有限公司",
        "uscc": VALID_USCC,
        "registration_city": "wuhan",
        "founded_on": "2024-03-01",
        "employees": "12",
        "revenue_band": "pre_revenue",
        "website": "",
        "founder_name": "张伟",
        "email": "zhang.wei@example.cn",
        "mobile": "138 0013 8000",
        "round": round_code,
        "center_1": "wuhan-ai",
        "center_2": "",
        "center_3": "",
        "gpu_hours_requested": "1000",
        "purpose": "训练一个面向中文法律文书的开源小模型。",
        "commit_open_weights": "on",
        "commit_open_weights_date": target,
        "consent_terms": "on",
        "company_fax": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def api_payload(round_code: str = "wuhan-2026-r2", **overrides) -> dict:
    """The same answers in the API's JSON shape."""
    target = (timezone.localdate() + dt.timedelta(days=180)).isoformat()
    payload = {
        "company_legal_name": "武汉深度求知科技有限公司",
        "uscc": VALID_USCC,
        "registration_city": "wuhan",
        "founded_on": "2024-03-01",
        "employees": 12,
        "revenue_band": "pre_revenue",
        "website": "",
        "founder_name": "张伟",
        "email": "zhang.wei@example.cn",
        "mobile": "138 0013 8000",
        "round": round_code,
        "preferred_centers": ["wuhan-ai"],
        "gpu_hours_requested": 1000,
        "purpose": "训练一个面向中文法律文书的开源小模型。",
        "commitments": [{"kind": "open_weights", "target_date": target}],
        "consent_terms": True,
        "consent_publish_name": False,
        "language": "zh-hans",
    }
    payload.update(overrides)
    return payload
