"""Example letter facts: for the benchmark, the layout preview and tests that need no database.

`latin_only=True` gives the same layout with every Chinese string replaced by Latin text of
similar length, which is the baseline the benchmark compares the bilingual letter against.
"""

from __future__ import annotations

from decimal import Decimal

from letters.content import LETTER_SCHEMA


def sample_letter_facts(*, latin_only: bool = False, verification_code: str = "K7QM-4XPR-9HTD"):
    def zh(chinese: str, latin: str) -> str:
        return latin if latin_only else chinese

    return {
        "schema": LETTER_SCHEMA,
        "kind": "grant",
        "grant_id": "G-2026-0042",
        "version": 1,
        "issued_on": "2026-12-01",
        "verification_code": verification_code,
        "program": {
            "code": "sz-ai",
            "name_zh": zh("深圳市人工智能算力券计划", "Shenzhen AI Compute Voucher Scheme"),
            "name_en": "Shenzhen AI Compute Voucher Scheme",
            "city_zh": zh("深圳市", "Shenzhen"),
            "city_en": "Shenzhen",
            "contact_email": "compute@sz.example.cn",
        },
        "round": {
            "code": "2026-winter",
            "title_zh": zh("2026年冬季算力券申请轮次", "2026 winter compute voucher round"),
            "title_en": "2026 winter compute voucher round",
        },
        "grantee": {
            "legal_name": zh(
                "深圳市星河智算科技有限公司", "Shenzhen Xinghe Zhisuan Technology Co., Ltd."
            ),
            "uscc": "91310110666007217T",
            "application_reference": "SL-2026-7KQ3",
        },
        "center": {
            "code": "sz-nc",
            "name_zh": zh("国家超级计算深圳中心", "National Supercomputing Center Shenzhen"),
            "name_en": "National Supercomputing Center in Shenzhen",
            "city_zh": zh("深圳", "Shenzhen"),
            "city_en": "Shenzhen",
        },
        "gpu_type": {"code": "a800", "name": "NVIDIA A800 80GB"},
        "amount": Decimal("12000"),
        "unit": "gpu_hours",
        "valid_from": "2026-12-01",
        "expires_at": "2027-11-30",
        "tranches": [
            {
                "number": 1,
                "amount": Decimal("4000"),
                "milestone_kind": "acceptance",
                "milestone_zh": zh("接受资助", "Acceptance of grant"),
                "milestone_en": "Acceptance of the grant",
                "target_date": "2026-12-01",
                "state": "released",
            },
            {
                "number": 2,
                "amount": Decimal("4000"),
                "milestone_kind": "open_weights",
                "milestone_zh": zh("公开发布模型权重", "Publish model weights"),
                "milestone_en": "Open model weights published",
                "target_date": "2027-04-30",
                "state": "pending",
            },
            {
                "number": 3,
                "amount": Decimal("4000"),
                "milestone_kind": "paper",
                "milestone_zh": zh("发表技术论文", "Publish a paper"),
                "milestone_en": "Technical paper published",
                "target_date": "2027-09-30",
                "state": "pending",
            },
        ],
        "draw": {
            "draw_id": "sz-ai-2026-winter",
            "rank": 7,
            "url": "http://127.0.0.1:8000/draws/sz-ai-2026-winter/",
        },
    }
