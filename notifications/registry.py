"""Every kind of message the portal sends, in one list.

A kind is a pair of templates (``templates/notifications/<kind>.subject.txt`` and ``.body.txt``)
rendered in the recipient's language with the context named here. The list is what staff see
in admin and what the tests render in both languages: a kind sent by any app must be here.

Django-free apart from lazy translation of the descriptions.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class MessageKind:
    code: str
    description: str
    # Names the templates use; senders pass at least these in ``context``.
    context: tuple[str, ...]
    # Who receives it: "founder" (an applicant, in their language) or "staff".
    audience: str = "founder"


KINDS: dict[str, MessageKind] = {
    kind.code: kind
    for kind in [
        MessageKind(
            "application_received",
            _("Application received, with the private status link"),
            ("application", "status_url"),
        ),
        MessageKind(
            "status_link",
            _("A fresh status link, asked for by the founder"),
            ("application", "status_url"),
        ),
        MessageKind(
            "eligibility_decided",
            _("Staff decided the eligibility of an application"),
            ("application", "status_url"),
        ),
        MessageKind(
            "draw_entrants_digest",
            _("The list of entrants is frozen before the draw, with its digest"),
            ("application", "draw", "draw_url"),
        ),
        MessageKind(
            "draw_result",
            _("The draw result for one entrant: winner or waitlist position"),
            ("application", "entry", "draw_url", "status_url"),
        ),
        MessageKind(
            "waitlist_promoted",
            _("A waitlisted entrant moved up to a winner's seat"),
            ("application", "entry", "draw_url", "status_url"),
        ),
        MessageKind(
            "grant_offered",
            _("A grant is offered and must be accepted before a deadline"),
            ("application", "grant", "status_url"),
        ),
        MessageKind(
            "grant_offer_expired",
            _("A grant offer was not accepted in time"),
            ("application", "grant", "status_url"),
        ),
        MessageKind(
            "grant_tranche_released",
            _("A tranche of compute was released to the founder"),
            ("application", "grant", "tranche", "status_url"),
        ),
        MessageKind(
            "milestone_reminder",
            _("A milestone is due soon"),
            ("application", "milestone", "status_url"),
        ),
        MessageKind(
            "milestone_rejected",
            _("Submitted evidence was not accepted; the founder may submit again"),
            ("application", "milestone", "status_url"),
        ),
        MessageKind(
            "milestone_overdue",
            _("A milestone passed its date without verified evidence"),
            ("application", "milestone", "status_url"),
        ),
        MessageKind(
            "draw_alert",
            _("Staff alert: a draw was stopped before anything was published"),
            ("draw", "problem", "draw_url"),
            audience="staff",
        ),
        MessageKind(
            "webhook_delivery_failed",
            _("Staff alert: a webhook to a center failed after every retry"),
            ("delivery", "event", "endpoint", "last_error"),
            audience="staff",
        ),
        MessageKind(
            "webhook_endpoint_gone",
            _("Staff alert: a center's billing endpoint answered 410 Gone and was disabled"),
            ("endpoint",),
            audience="staff",
        ),
    ]
}


class UnknownNotificationKind(LookupError):
    pass


def kind_get(code: str) -> MessageKind:
    try:
        return KINDS[code]
    except KeyError:
        raise UnknownNotificationKind(code) from None


def template_names(code: str) -> tuple[str, str]:
    return f"notifications/{code}.subject.txt", f"notifications/{code}.body.txt"
