"""Every kind of message renders in both languages from realistic objects, and the Chinese
rendering has no English left in it (every sentence is translated)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.template import Variable
from django.template.loader import get_template
from django.templatetags.i18n import BlockTranslateNode, TranslateNode
from django.utils import timezone, translation
from django.utils.translation import gettext

from applications.services import status_url_for
from grants.models import Tranche, WebhookDelivery
from lottery.selectors import entry_of_application
from milestones.models import Milestone
from notifications.registry import KINDS, template_names
from notifications.services import notification_render
from tests.factories import ApplicationFactory, RoundFactory
from tests.grants.factories import WebhookEndpointFactory
from tests.transparency.factories import capacity_for, draw_made, grant_made

pytestmark = pytest.mark.django_db

LANGUAGES = ("zh-hans", "en")
URL_OR_EMAIL = re.compile(r"(https?://\S+|[\w.+-]+@[\w.-]+)")
# Two Latin words in a row: an untranslated phrase (names, ids and references have no spaces;
# a lone loanword such as "webhook" or "GPU" is how Chinese technical writing names it).
ENGLISH_PHRASE = re.compile(r"\b[A-Za-z]{2,}\b[ ,;:'’]+\b[A-Za-z]{2,}\b")


def _application(**fields):
    round_ = RoundFactory(code=f"wuhan-{timezone.now():%f}", title_zh="武汉2026年第一轮")
    return ApplicationFactory(
        round=round_,
        company_legal_name="江城智算科技有限公司",
        founder_name="张伟",
        eligibility_reason_zh="符合本轮全部条件。",
        eligibility_reason_en="Meets every rule of the round.",
        **fields,
    )


def _grant_context(*, accept: bool, verify=()):
    endpoint = None
    application = _application()
    capacity = capacity_for(application.round)
    endpoint = WebhookEndpointFactory(center=capacity.gpu_type.center)
    grant = grant_made(
        capacity=capacity, application=application, amount="1500", accept=accept, verify=verify
    )
    return application, grant, endpoint


def samples(kind: str) -> list[dict]:
    """Realistic contexts for each kind, as the sending app builds them."""
    if kind in ("application_received", "status_link", "eligibility_decided"):
        application = _application()
        return [{"application": application, "status_url": status_url_for(application)}]
    if kind in ("draw_entrants_digest", "draw_result", "waitlist_promoted", "draw_alert"):
        winner, waiting = _application(), _application()
        waiting.round = winner.round
        waiting.save()
        draw = draw_made(winner.round, [(winner, "", "winner"), (waiting, "", "waitlist")])
        if kind == "draw_alert":
            return [
                {
                    "draw": draw,
                    "problem": "信标轮次未通过验证。",
                    "draw_url": draw.get_absolute_url(),
                }
            ]
        contexts = []
        for application in (winner, waiting):
            entry = entry_of_application(application)
            contexts.append(
                {
                    "application": application,
                    "draw": draw,
                    "entry": entry,
                    "draw_url": draw.get_absolute_url(),
                    "status_url": status_url_for(application),
                }
            )
        return contexts
    if kind in ("grant_offered", "grant_offer_expired"):
        application, grant, _endpoint = _grant_context(accept=False)
        return [{"application": application, "grant": grant, "status_url": "/s/x/"}]
    if kind == "grant_tranche_released":
        application, grant, _endpoint = _grant_context(accept=True, verify=("open_weights",))
        return [
            {"application": application, "grant": grant, "tranche": tranche, "status_url": "/s/"}
            for tranche in grant.tranches.filter(state=Tranche.State.RELEASED)
        ]
    if kind in ("milestone_reminder", "milestone_overdue", "milestone_rejected"):
        application, grant, _endpoint = _grant_context(accept=True)
        return [
            {
                "application": application,
                "milestone": milestone,
                "status_url": status_url_for(application),
                "grace_days": 14,
            }
            for milestone in Milestone.objects.filter(grant=grant)
        ]
    if kind in ("webhook_delivery_failed", "webhook_endpoint_gone"):
        *_made, endpoint = _grant_context(accept=False)
        delivery = WebhookDelivery.objects.filter(endpoint=endpoint).first()
        return [
            {
                "endpoint": endpoint,
                "delivery": delivery,
                "event": delivery.event,
                "last_error": "HTTP 503",
            }
        ]
    raise AssertionError(f"no sample context for {kind}: add one")


def msgids(template_name: str) -> list[str]:
    """The English messages a template translates ({% translate %} and {% blocktranslate %})."""
    found = []
    nodelist = get_template(template_name).template.nodelist
    for node in nodelist.get_nodes_by_type(TranslateNode):
        value = node.filter_expression.var
        found.append(value.literal if isinstance(value, Variable) else str(value))
    for node in nodelist.get_nodes_by_type(BlockTranslateNode):
        found.append(node.render_token_list(node.singular)[0])
    return [m for m in found if m]


def test_every_template_pair_is_a_registered_kind_and_every_kind_has_templates():
    from pathlib import Path

    from django.conf import settings

    folder = Path(settings.BASE_DIR) / "templates" / "notifications"
    on_disk = {p.name.split(".")[0] for p in folder.glob("*.subject.txt")}
    assert on_disk == set(KINDS)
    for kind in KINDS:
        for name in template_names(kind):
            get_template(name)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_message_kind_is_translated_into_chinese(kind):
    wanted = set(KINDS[kind].context)
    for name in template_names(kind):
        for msgid in msgids(name):
            with translation.override("zh-hans"):
                assert gettext(msgid) != msgid, f"{name}: no Chinese for {msgid!r}"
    for context in samples(kind):
        assert wanted <= set(context), f"sample for {kind} lacks {wanted - set(context)}"
        subject, body = notification_render(kind=kind, language="zh-hans", context=context)
        text = URL_OR_EMAIL.sub(" ", f"{subject}\n{body}")
        leftover = ENGLISH_PHRASE.findall(text)
        assert leftover == [], f"{kind}: English left in the Chinese message: {leftover}\n{text}"
        assert subject.strip()
        assert "%(" not in subject + body


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_message_kind_renders_in_english_with_its_facts(kind):
    for context in samples(kind):
        subject, body = notification_render(kind=kind, language="en", context=context)
        assert subject.strip()
        assert "%(" not in subject + body
        application = context.get("application")
        if application is not None:
            assert application.reference in subject + body
        if "grant" in context and kind != "grant_offer_expired":
            amount = f"{context['grant'].amount:.0f}"
            assert amount in body or f"{Decimal(amount):,.0f}" in body
        with translation.override("en"):
            for name in template_names(kind):
                for msgid in msgids(name):
                    assert re.search(r"[\u4e00-\u9fff]", msgid) is None, msgid
