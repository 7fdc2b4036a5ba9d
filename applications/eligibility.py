"""The round's published eligibility rules, applied by code. Django-free and deterministic:
the same facts and rules always give the same outcome, so the rules page can show exactly this."""

from dataclasses import dataclass
from datetime import date

from .cities import CITY_NAMES_EN, CITY_NAMES_ZH

ELIGIBLE = "eligible"
INELIGIBLE = "ineligible"
NEEDS_REVIEW = "needs_review"

# A company this close to the age limit is checked by staff rather than refused or let through,
# because registration dates are often misremembered by a few days.
AGE_BOUNDARY_DAYS = 30


@dataclass(frozen=True)
class Rules:
    max_employees: int
    max_company_age_years: int | None
    eligible_cities: tuple[str, ...]  # empty: every city


@dataclass(frozen=True)
class Facts:
    employees: int
    founded_on: date
    registration_city: str
    similar_name_in_round: bool = False


@dataclass(frozen=True)
class Outcome:
    status: str
    rule: str  # "" when eligible
    reason_en: str
    reason_zh: str


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def assess(*, facts: Facts, rules: Rules, today: date) -> Outcome:
    """Hard rules first (any failure is final), then the boundary cases that go to staff."""
    if facts.employees < 1:
        return Outcome(
            INELIGIBLE,
            "min_employees",
            "A company needs at least one employee (the founder counts).",
            "公司至少需要一名员工（创始人计入）。",
        )
    if facts.employees > rules.max_employees:
        return Outcome(
            INELIGIBLE,
            "max_employees",
            f"The company has {facts.employees} employees; this round is for companies with at "
            f"most {rules.max_employees}.",
            f"公司有 {facts.employees} 名员工；本轮仅面向员工不超过 {rules.max_employees} 人的公司。",
        )
    if rules.eligible_cities and facts.registration_city not in rules.eligible_cities:
        cities_en = ", ".join(CITY_NAMES_EN.get(c, c) for c in rules.eligible_cities)
        cities_zh = "、".join(CITY_NAMES_ZH.get(c, c) for c in rules.eligible_cities)
        city = facts.registration_city
        return Outcome(
            INELIGIBLE,
            "city",
            f"The company is registered in {CITY_NAMES_EN.get(city, city)}; this round is for "
            f"companies registered in: {cities_en}.",
            f"公司注册地为{CITY_NAMES_ZH.get(city, city)}；本轮仅面向注册地在以下城市的公司：{cities_zh}。",
        )
    if facts.founded_on > today:
        return Outcome(
            INELIGIBLE,
            "founded_in_future",
            "The founding date is in the future.",
            "成立日期晚于今天。",
        )
    if rules.max_company_age_years is not None:
        limit = _add_years(facts.founded_on, rules.max_company_age_years)
        days_past_limit = (today - limit).days
        if days_past_limit > AGE_BOUNDARY_DAYS:
            return Outcome(
                INELIGIBLE,
                "max_company_age",
                f"The company was founded on {facts.founded_on.isoformat()}; this round is for "
                f"companies at most {rules.max_company_age_years} years old.",
                f"公司成立于 {facts.founded_on.isoformat()}；本轮仅面向成立不超过 "
                f"{rules.max_company_age_years} 年的公司。",
            )
        if abs(days_past_limit) <= AGE_BOUNDARY_DAYS:
            return Outcome(
                NEEDS_REVIEW,
                "company_age_boundary",
                "The company's age is within 30 days of the limit; staff will check the "
                "registration date.",
                "公司成立年限距上限不足 30 天；工作人员将核对注册日期。",
            )
    if facts.employees == rules.max_employees:
        return Outcome(
            NEEDS_REVIEW,
            "employees_boundary",
            "The company is exactly at the employee limit; staff will check the headcount.",
            "公司员工人数恰好等于上限；工作人员将核对人数。",
        )
    if facts.similar_name_in_round:
        return Outcome(
            NEEDS_REVIEW,
            "similar_name",
            "Another application in this round has a very similar company name; staff will "
            "check that it is a different company.",
            "本轮另有一份申请的公司名称与此非常相似；工作人员将核实是否为不同公司。",
        )
    return Outcome(
        ELIGIBLE, "", "The company meets every rule of this round.", "公司符合本轮全部条件。"
    )
