"""Staff tools for milestones: the review queue, evidence correction and decisions with reasons.

Every button calls a service in ``milestones.services``; a decision that needs a reason (or a
new date) goes through a confirmation page that asks for it.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from . import services
from .models import EvidenceCheck, Milestone


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        max_length=1000,
        help_text=_("Recorded with your name; a rejection reason is shown to the founder."),
    )


class ExtendForm(ReasonForm):
    target_date = forms.DateField(
        label=_("New target date"), widget=forms.DateInput(attrs={"type": "date"})
    )


class EvidenceCheckInline(admin.TabularInline):
    model = EvidenceCheck
    extra = 0
    can_delete = False
    ordering = ["-started_at"]
    fields = ["started_at", "checker", "verdict", "outcome", "reason_en", "observed_pretty"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("what the check saw"))
    def observed_pretty(self, obj: EvidenceCheck):
        return format_html(
            "<pre style='white-space:pre-wrap;max-width:60em;max-height:20em;overflow:auto'>{}</pre>",
            json.dumps(obj.observed, indent=2, ensure_ascii=False),
        )


@admin.register(Milestone)
class MilestoneAdmin(SimpleHistoryAdmin):
    list_display = [
        "reference",
        "company",
        "kind",
        "target_date",
        "state",
        "needs_review",
        "last_verdict",
        "tranche_amount",
    ]
    list_filter = ["state", "needs_review", "kind", "grant__center", "grant__application__round"]
    search_fields = [
        "grant__application__reference",
        "grant__application__company_legal_name",
        "grant__application__uscc",
        "evidence_url",
    ]
    show_facets = admin.ShowFacets.ALWAYS
    date_hierarchy = "target_date"
    list_select_related = ["grant__application", "tranche"]
    inlines = [EvidenceCheckInline]
    actions = [
        "recheck_action",
        "verify_action",
        "reject_action",
        "waive_action",
        "extend_action",
        "forfeit_action",
    ]
    fieldsets = [
        (None, {"fields": ["grant", "tranche", "kind", "state", "needs_review"]}),
        (
            _("Dates"),
            {"fields": ["target_date", "original_target_date", "overdue_at", "last_reminder_days"]},
        ),
        (
            _("Evidence (staff may submit or correct it: saving runs the check again)"),
            {
                "fields": [
                    "evidence_url",
                    "evidence_note",
                    "evidence_submitted_at",
                    "evidence_submitted_by",
                ]
            },
        ),
        (
            _("Decision"),
            {
                "fields": [
                    "reason_en",
                    "reason_zh",
                    "decided_at",
                    "decided_by",
                    "check_attempts",
                    "next_check_at",
                ]
            },
        ),
    ]
    editable_fields = ("evidence_url", "evidence_note")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_readonly_fields(self, request, obj=None):
        every = [f.name for f in Milestone._meta.fields]
        return [name for name in every if name not in self.editable_fields]

    def get_queryset(self, request):
        latest = EvidenceCheck.objects.filter(milestone=OuterRef("pk")).order_by("-started_at")
        return (
            super()
            .get_queryset(request)
            .select_related("grant__application", "tranche")
            .annotate(
                last_check_verdict=Subquery(latest.values("verdict")[:1]),
                last_check_outcome=Subquery(latest.values("outcome")[:1]),
            )
        )

    def has_add_permission(self, request):
        return False  # created with the grant (milestones_create_for_grant)

    def has_delete_permission(self, request, obj=None):
        return False

    def has_decide_permission(self, request) -> bool:
        return request.user.has_perm("milestones.decide_milestone")

    @admin.display(description=_("reference"), ordering="grant__application__reference")
    def reference(self, obj: Milestone) -> str:
        return obj.grant.application.reference

    @admin.display(description=_("company"))
    def company(self, obj: Milestone) -> str:
        return obj.grant.application.company_legal_name

    @admin.display(description=_("tranche"))
    def tranche_amount(self, obj: Milestone):
        return obj.tranche.amount if obj.tranche_id else "—"

    @admin.display(description=_("last check"))
    def last_verdict(self, obj: Milestone) -> str:
        verdict = getattr(obj, "last_check_verdict", None)
        return f"{verdict} ({obj.last_check_outcome})" if verdict else "—"

    def save_model(self, request, obj: Milestone, form, change):
        """Evidence edited by staff goes through the same service as the founder's."""
        if not change or not ({"evidence_url", "evidence_note"} & set(form.changed_data)):
            return
        try:
            services.milestone_evidence_submit(
                milestone=obj,
                url=form.cleaned_data["evidence_url"],
                note=form.cleaned_data.get("evidence_note", ""),
                actor=request.user,
            )
        except services.MilestoneError as error:
            self.message_user(request, str(error), messages.ERROR)
        else:
            self.message_user(request, _("Evidence saved; the check runs again."))

    # --- actions ---

    def _each(self, request, queryset: QuerySet[Milestone], action, done_message) -> None:
        done = 0
        for milestone in queryset:
            try:
                action(milestone)
            except services.MilestoneError as error:
                self.message_user(request, f"{milestone}: {error}", messages.WARNING)
            else:
                done += 1
        if done:
            self.message_user(request, done_message % {"count": done}, messages.SUCCESS)

    def _ask(
        self, request, queryset, *, form_class, title, action_name, perform, done_message
    ) -> HttpResponse | None:
        if "apply" in request.POST:
            form = form_class(request.POST)
            if form.is_valid():
                self._each(request, queryset, lambda m: perform(m, form.cleaned_data), done_message)
                return None
        else:
            form = form_class()
        return render(
            request,
            "milestones/admin_action.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "form": form,
                "milestones": queryset,
                "action_name": action_name,
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description=_("Run the check again now"), permissions=["decide"])
    def recheck_action(self, request: HttpRequest, queryset):
        self._each(
            request,
            queryset,
            lambda m: services.milestone_recheck(milestone=m, actor=request.user),
            _("%(count)d check(s) queued."),
        )

    @admin.action(
        description=_("Verify the evidence and release the tranche"), permissions=["decide"]
    )
    def verify_action(self, request, queryset):
        return self._ask(
            request,
            queryset,
            form_class=ReasonForm,
            title=_("Verify the evidence and release the tranche"),
            action_name="verify_action",
            perform=lambda m, data: services.milestone_verify(
                milestone=m, actor=request.user, reason=data["reason"]
            ),
            done_message=_("%(count)d milestone(s) verified."),
        )

    @admin.action(
        description=_("Reject the evidence (founder may resubmit)"), permissions=["decide"]
    )
    def reject_action(self, request, queryset):
        return self._ask(
            request,
            queryset,
            form_class=ReasonForm,
            title=_("Reject the evidence"),
            action_name="reject_action",
            perform=lambda m, data: services.milestone_reject(
                milestone=m, actor=request.user, reason=data["reason"]
            ),
            done_message=_("%(count)d milestone(s) rejected."),
        )

    @admin.action(
        description=_("Waive the milestone and release its tranche"), permissions=["decide"]
    )
    def waive_action(self, request, queryset):
        return self._ask(
            request,
            queryset,
            form_class=ReasonForm,
            title=_("Waive the milestone"),
            action_name="waive_action",
            perform=lambda m, data: services.milestone_waive(
                milestone=m, actor=request.user, reason=data["reason"]
            ),
            done_message=_("%(count)d milestone(s) waived."),
        )

    @admin.action(description=_("Extend the target date"), permissions=["decide"])
    def extend_action(self, request, queryset):
        return self._ask(
            request,
            queryset,
            form_class=ExtendForm,
            title=_("Extend the target date"),
            action_name="extend_action",
            perform=lambda m, data: services.milestone_extend(
                milestone=m,
                actor=request.user,
                target_date=data["target_date"],
                reason=data["reason"],
            ),
            done_message=_("%(count)d milestone(s) extended."),
        )

    @admin.action(
        description=_("Forfeit the grant's remaining tranches (compute back to the pool)"),
        permissions=["decide"],
    )
    def forfeit_action(self, request, queryset):
        def perform(milestone: Milestone, data) -> None:
            services.grant_milestones_forfeit(
                grant=milestone.grant, actor=request.user, reason=data["reason"]
            )

        # One forfeit per grant, even when several of its milestones are selected.
        seen: set[int] = set()
        firsts = [m.pk for m in queryset if not (m.grant_id in seen or seen.add(m.grant_id))]
        return self._ask(
            request,
            queryset.filter(pk__in=firsts),
            form_class=ReasonForm,
            title=_("Forfeit the remaining tranches of these grants"),
            action_name="forfeit_action",
            perform=perform,
            done_message=_("Remaining tranches of %(count)d grant(s) forfeited."),
        )


@admin.register(EvidenceCheck)
class EvidenceCheckAdmin(admin.ModelAdmin):
    """Every check, read-only: the audit trail of what the workers saw."""

    list_display = ["milestone", "checker", "verdict", "outcome", "transient", "started_at"]
    list_filter = ["verdict", "outcome", "checker", "transient"]
    search_fields = ["milestone__grant__application__reference", "evidence_url"]
    date_hierarchy = "started_at"
    list_select_related = ["milestone__grant"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in EvidenceCheck._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
