"""Demo programs, rounds and a few dozen applications in both languages, with valid USCCs.

Guiyang's round has closed (its draw is completed by lottery.demo); Wuhan's and Qingyang's are
open. Applications go through the real submit service, so eligibility is decided by the rules."""

import datetime as dt
import random

from django.utils import timezone

from centers.models import Center

from . import services
from .models import Application, CityProgram, Round, Stratum
from .uscc import ALPHABET, make_valid

PROGRAMS = [
    ("wuhan", "武汉市算力券计划", "Wuhan Compute Voucher Program", "武汉", "Wuhan"),
    (
        "qingyang",
        "庆阳市东数西算普惠计划",
        "Qingyang East-Data-West-Compute Access Program",
        "庆阳",
        "Qingyang",
    ),
    ("guiyang", "贵阳市算力普惠计划", "Guiyang Compute Access Program", "贵阳", "Guiyang"),
]

ZH_COMPANIES = [
    "深度求知",
    "星河语义",
    "青云视觉",
    "北辰智算",
    "澜图数据",
    "知微医疗",
    "墨言科技",
    "天衡法律智能",
    "禾苗农业智能",
    "长江声学",
    "楚才教育",
    "云岭气象",
    "黔灵模型",
    "陇原能源智能",
    "陇东遥感",
    "筑梦机器人",
    "江城自动驾驶",
    "光谷芯语",
    "凌霄翻译",
    "南湖生物计算",
]
EN_COMPANIES = [
    "Lattice Labs",
    "Open Tensor Works",
    "Riverbank AI",
    "Kestrel Robotics",
    "Quill Language",
    "Sparrow Health",
    "Granary Vision",
    "Tidewater Speech",
    "Basalt Research",
    "Lumen Legal AI",
]
PURPOSES_ZH = [
    "训练面向中文法律文书的开源小模型。",
    "微调医学影像分割模型并开源权重。",
    "构建方言语音识别数据集与基线模型。",
    "为农户提供病虫害识别的手机应用。",
]
PURPOSES_EN = [
    "Pre-train an open 1B-parameter model for Chinese-English translation.",
    "Fine-tune a speech model for Hubei dialects and publish the weights.",
    "Build an open benchmark for legal question answering.",
]


def _uscc(rng: random.Random) -> str:
    body = (
        "91"
        + "".join(rng.choice("0123456789") for _ in range(6))
        + "".join(rng.choice(ALPHABET) for _ in range(9))
    )
    return make_valid(body)


def _rounds(now: dt.datetime) -> list[Round]:
    programs = {}
    for code, name_zh, name_en, city_zh, city_en in PROGRAMS:
        programs[code], _ = CityProgram.objects.update_or_create(
            code=code,
            defaults={
                "name_zh": name_zh,
                "name_en": name_en,
                "city_zh": city_zh,
                "city_en": city_en,
                "contact_email": f"suanli@{code}.gov.example.cn",
            },
        )
    specs = [
        (
            "guiyang-2026-r1",
            "guiyang",
            "贵阳2026年第一轮",
            "Guiyang 2026 round 1",
            -40,
            -10,
            4,
            ["guiyang"],
        ),
        ("wuhan-2026-r2", "wuhan", "武汉2026年第二轮", "Wuhan 2026 round 2", -10, 20, 5, ["wuhan"]),
        (
            "qingyang-2026-r1",
            "qingyang",
            "庆阳2026年第一轮",
            "Qingyang 2026 round 1",
            -5,
            25,
            4,
            [],
        ),
    ]
    rounds = []
    for code, program, title_zh, title_en, open_days, close_days, winners, cities in specs:
        round_, created = Round.objects.get_or_create(
            code=code,
            defaults={
                "program": programs[program],
                "title_zh": title_zh,
                "title_en": title_en,
                "opens_at": now + dt.timedelta(days=open_days),
                "closes_at": now + dt.timedelta(days=close_days),
                "gpu_hours_on_offer": 40_000,
                "tokens_on_offer": 2_000_000_000,
                "grant_min_gpu_hours": 200,
                "grant_max_gpu_hours": 4_000,
                "winners": winners,
                "max_company_age_years": 8,
                "eligible_cities": cities,
                "acceptance_window_days": 14,
            },
        )
        if created and code == "wuhan-2026-r2":
            Stratum.objects.create(
                round=round_,
                code="micro",
                name_zh="10人以下企业",
                name_en="Companies under 10 people",
                reserved=2,
                cap=None,
                position=1,
                match_size_bands=["1-9"],
            )
        rounds.append(round_)
    return rounds


def load_demo(stdout) -> None:
    now = timezone.now()
    rounds = _rounds(now)
    centers = list(Center.objects.filter(is_active=True))
    created = 0
    for round_ in rounds:
        city = round_.eligible_cities[0] if round_.eligible_cities else "qingyang"
        names = [(n, "zh-hans") for n in ZH_COMPANIES] + [(n, "en") for n in EN_COMPANIES]
        random.Random(round_.code).shuffle(names)
        for index, (name, language) in enumerate(names[:14]):
            # One fixed seed per company: the second run draws the same values and skips it.
            rng = random.Random(f"{round_.code}/{index}")
            legal = (
                f"{city.capitalize()} {name} Co., Ltd."
                if language == "en"
                else f"{name}（{round_.program.city_zh}）科技有限公司"
            )
            uscc = _uscc(rng)
            employees = rng.choice([2, 3, 5, 8, 12, 18, 25, 40, 49, 75])
            founded = (now - dt.timedelta(days=rng.randint(100, 3000))).date()
            at = max(round_.opens_at + dt.timedelta(hours=1 + index * 5), round_.opens_at)
            if at >= round_.closes_at or at > now:
                at = round_.opens_at + dt.timedelta(minutes=10 + index)
            if Application.objects.filter(round=round_, uscc=uscc).exists():
                continue
            services.application_submit(
                round=round_,
                company_legal_name=legal,
                uscc=uscc,
                registration_city=city if index % 7 else rng.choice(["wuhan", "beijing", city]),
                founded_on=founded,
                employees=employees,
                revenue_band=rng.choice([c for c, _ in Application.RevenueBand.choices]),
                website="",
                founder_name=("王芳" if language == "zh-hans" else "Li Wei"),
                email=f"founder{index}@{round_.program.code}.demo.example.cn",
                mobile="+86138001380" + f"{index:02d}",
                preferred_centers=rng.sample(centers, k=min(2, len(centers))),
                gpu_hours_requested=rng.choice([500, 1000, 2000, 3000]),
                purpose=rng.choice(PURPOSES_EN if language == "en" else PURPOSES_ZH),
                commitments=[
                    services.CommitmentInput("open_weights", (now + dt.timedelta(days=120)).date()),
                    services.CommitmentInput("paper", (now + dt.timedelta(days=200)).date()),
                ],
                consent_terms=True,
                consent_publish_name=index % 3 != 0,
                language=language,
                now=at,
            )
            created += 1
    stdout.write(
        f"applications: {Application.objects.count()} in {len(rounds)} rounds ({created} new)"
    )
