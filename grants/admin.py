"""Staff tools for grants and webhooks: allocate, amend, revoke; events, deliveries, attempts;
resend, recover failed since a date. Every action calls a service that records who did it."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.db.models import Exists, OuterRef, Q, Sum
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from applications.models import Round
from centers.services import CapacityExceeded

from . import services
from .forms import AmendForm, ReasonForm, RecoverSinceForm
from .models import DeliveryAttempt, Grant, OutboxEvent, Tranche, UsageReport, WebhookDelivery
from .selectors import grants_idle


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TrancheInline(ReadOnlyMixin, admin.TabularInline):
    model = Tranche
    extra = 0
    fields = ["number", "amount", "state", "commitment", "released_at", "reason"]
    readonly_fields = fields


class UsageReportInline(ReadOnlyMixin, admin.TabularInline):
    model = UsageReport
    extra = 0
    fields = ["report_id", "period_start", "period_end", "used", "received_at"]
    readonly_fields = fields


class IdleFilter(admin.SimpleListFilter):
    title = _("usage")
    parameter_name = "idle"

    def lookups(self, request, model_admin):
        return [("yes", _("Idle (no usage reported recently)"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(pk__in=grants_idle().values("pk"))
        return queryset


@admin.register(Grant)
class GrantAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "reference",
        "center",
        "amount",
        "released_display",
        "used_display",
        "status",
        "version",
        "idle_display",
        "offer_expires_at",
    ]
    list_filter = ["status", IdleFilter, "center", "capacity__round"]
    search_fields = [
        "application__reference",
        "application__company_legal_name",
        "application__uscc",
    ]
    list_select_related = ["application", "center"]
    readonly_fields = [
        "application",
        "draw_entry",
        "center",
        "gpu_type",
        "capacity",
        "unit",
        "amount",
        "billing_account",
        "status",
        "version",
        "valid_from",
        "expires_at",
        "offer_expires_at",
        "offered_at",
        "accepted_at",
        "ended_at",
        "end_reason",
        "last_usage_at",
        "created_by",
        "staff_links",
    ]
    # Everything read-only: a change reaches the center only through amend/revoke (a new
    # version and an outbox event), never through a plain save of this form.
    fields = ["staff_links", *readonly_fields[:-1]]
    inlines = [TrancheInline, UsageReportInline]
    change_list_template = "grants/admin/grant_change_list.html"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        # Idle is computed by the database per row (no state on this shared admin object).
        return (
            super()
            .get_queryset(request)
            .annotate(
                released_total=Sum("tranches__amount", filter=_released_q()),
                is_idle=Exists(grants_idle().filter(pk=OuterRef("pk"))),
            )
        )

    @admin.display(description=_("reference"), ordering="application__reference")
    def reference(self, obj: Grant) -> str:
        return obj.application.reference

    @admin.display(description=_("released"))
    def released_display(self, obj: Grant) -> Decimal:
        return getattr(obj, "released_total", None) or Decimal(0)

    @admin.display(description=_("used"))
    def used_display(self, obj: Grant) -> Decimal:
        return obj.used

    @admin.display(description=_("idle"), boolean=True)
    def idle_display(self, obj: Grant) -> bool:
        return bool(getattr(obj, "is_idle", False))

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_allocate": request.user.has_perm("grants.allocate_grants"),
        }
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("actions"))
    def staff_links(self, obj: Grant) -> str:
        if obj.pk is None or obj.status in Grant.ENDED_STATUSES:
            return "—"
        return format_html(
            '<a class="button" href="{}">{}</a> <a class="button" href="{}">{}</a>',
            reverse("admin:grants_grant_amend", args=[obj.pk]),
            _("Amend"),
            reverse("admin:grants_grant_revoke", args=[obj.pk]),
            _("Revoke"),
        )

    def get_urls(self):
        own = [
            path(
                "allocate/",
                self.admin_site.admin_view(self.allocate_view),
                name="grants_grant_allocate",
            ),
            path(
                "<int:grant_id>/amend/",
                self.admin_site.admin_view(self.amend_view),
                name="grants_grant_amend",
            ),
            path(
                "<int:grant_id>/revoke/",
                self.admin_site.admin_view(self.revoke_view),
                name="grants_grant_revoke",
            ),
        ]
        return own + super().get_urls()

    # --- allocate: choose a round, see the proposal, confirm ---

    def allocate_view(self, request: HttpRequest):
        if not request.user.has_perm("grants.allocate_grants"):
            raise PermissionDenied
        rounds = Round.objects.filter(draw__isnull=False).order_by("-opens_at")
        round_code = request.POST.get("round") or request.GET.get("round")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Allocate winners to centers"),
            "rounds": rounds,
            "opts": self.model._meta,
        }
        if not round_code:
            return TemplateResponse(request, "grants/admin/allocate.html", context)
        round = get_object_or_404(Round, code=round_code)
        if request.method == "POST" and request.POST.get("confirm") == "yes":
            # Create exactly what was shown and ticked ("entry:capacity:amount"), not a fresh
            # proposal: if the room went meanwhile the ledger refuses and nothing is created.
            try:
                chosen = [_parse_choice(value) for value in request.POST.getlist("choice")]
                created = services.grants_allocate_confirmed(
                    round=round, choices=chosen, actor=request.user
                )
            except (CapacityExceeded, IntegrityError, ValueError, services.GrantError) as exc:
                message = _(
                    "Capacity changed meanwhile (%(detail)s); nothing was created. "
                    "Review the new proposal."
                )
                messages.error(request, message % {"detail": exc})
                return HttpResponseRedirect(
                    reverse("admin:grants_grant_allocate") + f"?round={round.code}"
                )
            messages.success(request, _("%(count)d grants offered.") % {"count": len(created)})
            return HttpResponseRedirect(reverse("admin:grants_grant_changelist"))
        proposal = services.grants_allocation_propose(round=round)
        context.update({"round": round, "proposal": proposal})
        return TemplateResponse(request, "grants/admin/allocate.html", context)

    # --- amend / revoke with a reason ---

    def amend_view(self, request: HttpRequest, grant_id: int):
        grant = get_object_or_404(Grant, pk=grant_id)
        if not request.user.has_perm("grants.change_grant"):
            raise PermissionDenied
        form = AmendForm(request.POST or None, grant=grant)
        if request.method == "POST" and form.is_valid():
            try:
                services.grant_amend(
                    grant=grant,
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                    amount=form.cleaned_data["amount"],
                    capacity=form.cleaned_data["capacity"],
                )
            except (services.GrantError, CapacityExceeded) as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Grant amended; the center is told."))
                return HttpResponseRedirect(reverse("admin:grants_grant_change", args=[grant.pk]))
        return self._form_page(request, grant, form, _("Amend grant"))

    def revoke_view(self, request: HttpRequest, grant_id: int):
        grant = get_object_or_404(Grant, pk=grant_id)
        if not request.user.has_perm("grants.change_grant"):
            raise PermissionDenied
        form = ReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.grant_revoke(
                    grant=grant, actor=request.user, reason=form.cleaned_data["reason"]
                )
            except services.GrantError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Grant revoked; unreleased compute returned."))
                return HttpResponseRedirect(reverse("admin:grants_grant_change", args=[grant.pk]))
        return self._form_page(request, grant, form, _("Revoke grant"))

    def _form_page(self, request, grant, form, title):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "grant": grant,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "grants/admin/grant_form.html", context)


def _parse_choice(value: str) -> tuple[int, int, Decimal]:
    entry_id, capacity_id, amount = value.split(":")
    return int(entry_id), int(capacity_id), Decimal(amount)


def _released_q() -> Q:
    return Q(tranches__state=Tranche.State.RELEASED)


class DeliveryInline(ReadOnlyMixin, admin.TabularInline):
    model = WebhookDelivery
    extra = 0
    fields = ["endpoint", "status", "attempts", "next_attempt_at", "last_status_code"]
    readonly_fields = fields
    show_change_link = True


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "event_type", "grant", "grant_version", "webhook_id", "occurred_at"]
    list_filter = ["event_type"]
    search_fields = ["webhook_id", "grant__application__reference"]
    readonly_fields = ["webhook_id", "event_type", "grant", "grant_version", "occurred_at", "body"]
    inlines = [DeliveryInline]

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("grants.view_outboxevent")


class AttemptInline(ReadOnlyMixin, admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    fields = [
        "number",
        "started_at",
        "duration_ms",
        "status_code",
        "error",
        "response_excerpt",
        "next_attempt_at",
    ]
    readonly_fields = fields


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "event_type",
        "webhook_id",
        "endpoint",
        "grant_version",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
    ]
    list_filter = ["status", "endpoint__center", "event__event_type"]
    search_fields = ["event__webhook_id", "grant__application__reference"]
    list_select_related = ["event", "endpoint__center"]
    readonly_fields = [
        "event",
        "endpoint",
        "grant",
        "grant_version",
        "status",
        "attempts",
        "next_attempt_at",
        "last_attempt_at",
        "last_status_code",
        "delivered_at",
        "failed_at",
        "created_at",
    ]
    inlines = [AttemptInline]
    actions = ["resend_selected"]
    change_list_template = "grants/admin/delivery_change_list.html"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("type"), ordering="event__event_type")
    def event_type(self, obj):
        return obj.event.event_type

    @admin.display(description=_("webhook-id"))
    def webhook_id(self, obj):
        return obj.event.webhook_id

    @admin.action(description=_("Resend (same webhook-id)"), permissions=["change"])
    def resend_selected(self, request, queryset):
        for delivery in queryset:
            services.delivery_resend(delivery=delivery, actor=request.user)
        messages.success(
            request, _("%(count)d deliveries queued again.") % {"count": queryset.count()}
        )

    def get_urls(self):
        return [
            path(
                "recover/",
                self.admin_site.admin_view(self.recover_view),
                name="grants_webhookdelivery_recover",
            ),
            *super().get_urls(),
        ]

    def recover_view(self, request: HttpRequest):
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = RecoverSinceForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            count = services.deliveries_recover_failed(
                since=form.cleaned_data["since"], actor=request.user
            )
            messages.success(
                request, _("%(count)d failed deliveries queued again.") % {"count": count}
            )
            return HttpResponseRedirect(reverse("admin:grants_webhookdelivery_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Recover failed deliveries"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "grants/admin/recover.html", context)


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["delivery", "number", "started_at", "status_code", "error", "duration_ms"]
    list_filter = ["status_code", "succeeded"]
    readonly_fields = [
        "delivery",
        "number",
        "started_at",
        "duration_ms",
        "status_code",
        "error",
        "response_excerpt",
        "succeeded",
        "next_attempt_at",
    ]

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("grants.view_deliveryattempt")


@admin.register(UsageReport)
class UsageReportAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["report_id", "center", "grant", "period_start", "period_end", "used"]
    list_filter = ["center"]
    search_fields = ["report_id", "grant__application__reference"]

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("grants.view_usagereport")
