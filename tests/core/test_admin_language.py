"""A Chinese-speaking clerk reads the admin in Chinese: section and model names on the index,
column headers and filter titles on the changelists. English staff still read English."""

import html
import re

import pytest

from centers.models import WebhookEndpoint
from grants.models import OutboxEvent, WebhookDelivery
from lottery import selectors as lottery_selectors
from lottery import services as lottery_services
from tests.grants.factories import offered_grant
from tests.lottery.conftest import add_entrants, make_round
from tests.lottery.flow import completed_declared_draw

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(client, django_user_model):
    user = django_user_model.objects.create_superuser("clerk", "clerk@example.cn", "pw")
    client.force_login(user)
    return client


@pytest.fixture
def some_of_everything():
    """One grant offered to one application, with its webhook waiting for the center."""
    grant = offered_grant()
    endpoint = WebhookEndpoint.objects.create(
        center=grant.center, url="http://127.0.0.1:9/", secret="whsec_test"
    )
    event = OutboxEvent.objects.filter(grant=grant).first()
    WebhookDelivery.objects.get_or_create(
        event=event, endpoint=endpoint, grant=grant, grant_version=event.grant_version
    )
    return grant


@pytest.fixture
def drawn_round():
    """A completed draw whose first winner declined, so the waitlist's first entrant moved up."""
    round_ = make_round(winners=2)
    add_entrants(round_, 4)
    draw = completed_declared_draw(round_)
    winner = lottery_selectors.draw_winners(draw=draw).first()
    lottery_services.entry_withdraw(entry=winner, reason="declined")
    return draw


def visible_text(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def assert_shown(text: str, shown: list[str], not_shown: list[str]) -> None:
    assert [label for label in shown if label not in text] == []
    assert [label for label in not_shown if label in text] == []


def test_the_chinese_admin_index_names_sections_and_models_in_chinese(clerk):
    text = visible_text(clerk, "/zh-hans/admin/")
    assert_shown(
        text,
        shown=["申请", "轮次", "资助", "Webhook 投递", "算力中心", "里程碑", "审计记录"],
        not_shown=[
            "Applications",
            "Rounds",
            "Grants",
            "Tranches",
            "Webhook deliveries",
            "Computing centers",
            "Milestones",
            "Audit events",
            "Notifications",
        ],
    )


def test_the_chinese_changelists_have_chinese_headers_and_filters(clerk, some_of_everything):
    applications = visible_text(clerk, "/zh-hans/admin/applications/application/")
    assert_shown(
        applications,
        shown=[
            "申请编号",
            "公司全称",
            "轮次",
            "状态",
            "注册城市",
            "员工人数",
            "提交时间",
            "规模区间",
        ],
        not_shown=["Reference", "Legal name", "Registration city", "Employees", "Submitted at"],
    )
    grants = visible_text(clerk, "/zh-hans/admin/grants/grant/")
    assert_shown(
        grants,
        shown=["申请编号", "算力中心", "额度", "已发放", "已使用", "版本", "要约截止时间"],
        not_shown=["Reference", "Computing center", "Amount", "Offer expires at"],
    )
    deliveries = visible_text(clerk, "/zh-hans/admin/grants/webhookdelivery/")
    assert_shown(
        deliveries,
        shown=["Webhook 投递", "类型", "端点", "资助版本", "尝试次数", "下次尝试时间", "待处理"],
        not_shown=["Endpoint", "Grant version", "Attempts", "Next attempt at", "Pending"],
    )


def test_the_english_admin_stays_english(clerk, some_of_everything):
    index = visible_text(clerk, "/en/admin/")
    assert_shown(
        index,
        shown=["Applications", "Rounds", "Grants", "Webhook deliveries", "Computing centers"],
        not_shown=["申请", "资助", "算力中心"],
    )
    applications = visible_text(clerk, "/en/admin/applications/application/")
    assert_shown(
        applications,
        shown=["Reference", "Legal name", "Registration city", "Submitted at", "By size band"],
        not_shown=["申请编号", "注册城市", "提交时间"],
    )
    deliveries = visible_text(clerk, "/en/admin/grants/webhookdelivery/")
    assert_shown(
        deliveries,
        shown=["Endpoint", "Grant version", "Attempts", "Next attempt at"],
        not_shown=["端点", "尝试次数"],
    )


def test_the_chinese_lottery_admin_names_draws_entries_and_events_in_chinese(clerk, drawn_round):
    index = visible_text(clerk, "/zh-hans/admin/")
    assert_shown(
        index,
        shown=["抽签", "抽签参与记录", "抽签事件"],
        not_shown=["Lottery", "Draws", "Draw entries", "Draw events"],
    )
    draws = visible_text(clerk, "/zh-hans/admin/lottery/draw/")
    assert_shown(
        draws,
        shown=[
            "抽签编号",
            "轮次",
            "状态",
            "报名截止时间",
            "参与者人数",
            "已抽出中签者",
            "仍在审核中的申请",
            "随机信标来源",
            "已抽签",
        ],
        not_shown=["Draw id", "Entries close at", "Entrants count", "Winners drawn", "By state"],
    )
    draw = visible_text(clerk, f"/zh-hans/admin/lottery/draw/{drawn_round.pk}/change/")
    assert_shown(
        draw,
        shown=["名单指纹", "信标值", "种子", "抽签完成时间", "事先声明的公开事件", "公开页面"],
        not_shown=["Entrants digest", "Beacon value", "Seed", "Completed at"],
    )
    entries = visible_text(clerk, "/zh-hans/admin/lottery/drawentry/")
    assert_shown(
        entries,
        shown=["申请编号", "排名", "分组", "抽签时结果", "结果", "中签", "候补", "已退出"],
        not_shown=["Reference", "Rank", "Drawn outcome", "Outcome", "Waitlist"],
    )
    events = visible_text(clerk, "/zh-hans/admin/lottery/drawevent/")
    assert_shown(
        events,
        shown=["类型", "时间", "被递补的名额", "理由", "放弃", "候补递补", "公布抽签结果"],
        not_shown=["Kind", "Replaces", "Reason", "declined", "Results published"],
    )


def test_the_english_lottery_admin_stays_english(clerk, drawn_round):
    index = visible_text(clerk, "/en/admin/")
    assert_shown(
        index,
        shown=["Lottery", "Draws", "Draw entries", "Draw events"],
        not_shown=["抽签"],
    )
    draws = visible_text(clerk, "/en/admin/lottery/draw/")
    assert_shown(
        draws,
        shown=["Draw id", "Round", "Entries close at", "Entrants count", "Winners drawn"],
        not_shown=["抽签编号", "报名截止时间"],
    )
    entries = visible_text(clerk, "/en/admin/lottery/drawentry/")
    assert_shown(
        entries,
        shown=["Reference", "Rank", "Stratum", "Drawn outcome", "Outcome"],
        not_shown=["申请编号", "排名"],
    )
    events = visible_text(clerk, "/en/admin/lottery/drawevent/")
    assert_shown(events, shown=["Kind", "At", "Replaces", "Reason", "declined"], not_shown=[])


def test_a_draw_action_reports_back_in_chinese_words_not_codes(clerk):
    round_ = make_round(winners=1)
    add_entrants(round_, 2)
    draw = completed_declared_draw(round_)
    response = clerk.post(
        "/zh-hans/admin/lottery/draw/",
        {"action": "freeze_action", "_selected_action": [draw.pk]},
        follow=True,
    )
    text = html.unescape(response.content.decode())
    # A completed draw is not frozen again: the clerk reads that nothing changed.
    # The admin capitalises a message's first letter, hence lower().
    assert f"{draw.draw_id}: 已冻结: 未作更改" in text.lower()
    assert "False" not in text
    response = clerk.post(
        "/zh-hans/admin/lottery/draw/",
        {"action": "execute_action", "_selected_action": [draw.pk]},
        follow=True,
    )
    assert f"{draw.draw_id}: 状态: 已抽签" in html.unescape(response.content.decode()).lower()
