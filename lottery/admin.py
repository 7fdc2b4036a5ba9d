"""Staff screens for draws. Everything published is read-only here: staff can only trigger
the services (freeze, fetch the beacon, run, enter a declared value once, change the beacon
before close, disqualify a winner with a reason); the database refuses any other change."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from lottery import selectors, services
from lottery.beacon import BeaconError
from lottery.draw import DrawInputError
from lottery.models import Draw, DrawEntry, DrawEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields] + list(self.readonly_fields)


class DeclaredValueForm(forms.Form):
    value = forms.CharField(
        label=_("Value of the public event"),
        max_length=500,
        help_text=_("Exactly as published by the event. It can be entered once and never changed."),
    )
    confirm = forms.BooleanField(
        label=_("I checked the value against the public source; it is final."), required=True
    )


class BeaconChangeForm(forms.Form):
    beacon_source = forms.ChoiceField(choices=Draw.BeaconSource.choices, label=_("Beacon"))
    beacon_round = forms.IntegerField(
        required=False,
        min_value=1,
        label=_("drand round (empty: first round 10 minutes after close)"),
    )
    beacon_description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label=_("Declared public event")
    )


class DisqualifyForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("Reason for the disqualification"),
        help_text=_("Recorded in the audit log; the public record shows the reason code."),
    )


@admin.register(Draw)
class DrawAdmin(ReadOnlyAdmin):
    list_display = [
        "draw_id",
        "round",
        "state",
        "entries_close_at",
        "entrants_count",
        "winners_drawn",
        "needs_review",
    ]
    list_filter = ["state", "beacon_source"]
    search_fields = ["draw_id", "round__code"]
    exclude = ["entrants_lines", "entrant_application_ids"]
    readonly_fields = ["needs_review", "public_page", "staff_links"]
    actions = ["freeze_action", "beacon_action", "execute_action"]

    def get_readonly_fields(self, request, obj=None):
        hidden = set(self.exclude)
        return [f.name for f in Draw._meta.fields if f.name not in hidden] + [
            "needs_review",
            "public_page",
            "staff_links",
        ]

    @admin.display(description=_("Staff actions"))
    def staff_links(self, obj: Draw) -> str:
        if obj.beacon_source == Draw.BeaconSource.DECLARED and not obj.beacon_value:
            url = reverse("admin:lottery_draw_declared_value", args=[obj.pk])
            return format_html('<a href="{}">{}</a>', url, _("Enter the declared value (once)"))
        if obj.state == Draw.State.ANNOUNCED:
            url = reverse("admin:lottery_draw_beacon_change", args=[obj.pk])
            return format_html('<a href="{}">{}</a>', url, _("Change the beacon (before close)"))
        return "—"

    @admin.display(description=_("Applications still under review"))
    def needs_review(self, obj: Draw) -> int:
        return services.draw_needs_review_count(draw=obj)

    @admin.display(description=_("Public page"))
    def public_page(self, obj: Draw) -> str:
        return format_html('<a href="{0}">{0}</a>', obj.get_absolute_url())

    def change_view(self, request, object_id, form_url="", extra_context=None):
        draw = Draw.objects.filter(pk=object_id).select_related("round").first()
        if draw is not None and draw.state == Draw.State.ANNOUNCED:
            pending = services.draw_needs_review_count(draw=draw)
            if pending:
                deadline = draw.round.review_deadline
                messages.warning(
                    request,
                    _(
                        "%(count)d applications still need review. The entrants cannot be frozen "
                        "until every one is decided%(deadline)s; after the deadline they are left "
                        "out of the draw, and the page says how many and why."
                    )
                    % {
                        "count": pending,
                        "deadline": (
                            _(" or the review deadline (%s) passes")
                            % date_format(deadline, "DATETIME_FORMAT")
                            if deadline
                            else _(" (the round has no review deadline)")
                        ),
                    },
                )
        extra_context = {**(extra_context or {}), "show_save": False}
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path(
                "<int:pk>/declared-value/",
                self.admin_site.admin_view(self.declared_value_view),
                name="lottery_draw_declared_value",
            ),
            path(
                "<int:pk>/beacon/",
                self.admin_site.admin_view(self.beacon_change_view),
                name="lottery_draw_beacon_change",
            ),
            *super().get_urls(),
        ]

    def _run(self, request, queryset, action, label):
        for draw in queryset:
            try:
                outcome = action(draw)
            except (services.DrawError, DrawInputError, BeaconError) as error:
                self.message_user(request, f"{draw.draw_id}: {error}", messages.ERROR)
            else:
                # Freeze and fetch answer True/False: say it in words, not as a Python literal.
                if outcome is True:
                    outcome = _("done")
                elif outcome is False:
                    outcome = _("nothing changed")
                self.message_user(request, f"{draw.draw_id}: {label}: {outcome}", messages.INFO)

    @admin.action(description=_("Freeze the entrants (when entries have closed)"))
    def freeze_action(self, request, queryset: QuerySet[Draw]) -> None:
        self._run(request, queryset, lambda d: services.draw_freeze(draw=d), _("frozen"))

    @admin.action(description=_("Fetch and verify the drand beacon round"))
    def beacon_action(self, request, queryset: QuerySet[Draw]) -> None:
        self._run(request, queryset, lambda d: services.draw_beacon_fetch(draw=d), _("beacon"))

    @admin.action(description=_("Run the draw (when entrants and beacon are published)"))
    def execute_action(self, request, queryset: QuerySet[Draw]) -> None:
        self._run(
            request,
            queryset,
            lambda d: services.draw_execute(draw=d).get_state_display(),
            _("state"),
        )

    def declared_value_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        draw = get_object_or_404(Draw, pk=pk)
        if not request.user.has_perm("lottery.change_draw"):
            raise PermissionDenied
        form = DeclaredValueForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.draw_declared_value_enter(
                    draw=draw, value=form.cleaned_data["value"], actor=request.user
                )
            except (services.DrawError, DrawInputError) as error:
                form.add_error("value", str(error))
            else:
                self.message_user(request, _("The declared value is recorded."), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:lottery_draw_change", args=[pk]))
        return TemplateResponse(
            request,
            "lottery/admin/form.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Enter the declared value of %(draw)s") % {"draw": draw.draw_id},
                "draw": draw,
                "form": form,
            },
        )

    def beacon_change_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        draw = get_object_or_404(Draw, pk=pk)
        if not request.user.has_perm("lottery.change_draw"):
            raise PermissionDenied
        form = BeaconChangeForm(
            request.POST or None,
            initial={
                "beacon_source": draw.beacon_source,
                "beacon_round": draw.beacon_round,
                "beacon_description": draw.beacon_description,
            },
        )
        if request.method == "POST" and form.is_valid():
            try:
                services.draw_beacon_change(
                    draw=draw,
                    beacon_source=form.cleaned_data["beacon_source"],
                    beacon_round=form.cleaned_data["beacon_round"],
                    beacon_description=form.cleaned_data["beacon_description"] or "",
                    actor=request.user,
                )
            except DrawInputError as error:
                form.add_error(None, f"{error.field}: {error.message}")
            except services.DrawError as error:
                form.add_error(None, str(error))
            else:
                self.message_user(request, _("The beacon is changed, publicly."), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:lottery_draw_change", args=[pk]))
        return TemplateResponse(
            request,
            "lottery/admin/form.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Change the beacon of %(draw)s") % {"draw": draw.draw_id},
                "draw": draw,
                "form": form,
            },
        )


@admin.register(DrawEntry)
class DrawEntryAdmin(ReadOnlyAdmin):
    list_display = ["reference", "draw", "rank", "stratum", "drawn_outcome", "outcome"]
    list_filter = ["outcome", "draw"]
    search_fields = ["reference"]
    list_select_related = ["draw"]
    show_full_result_count = False
    actions = ["disqualify_action"]

    def changelist_view(self, request, extra_context=None):
        # Only winners and changed results are kept as entries; a waitlisted entrant searched
        # by reference is found in the published ranking and offered for disqualification.
        query = request.GET.get("q", "").strip()
        if query and not DrawEntry.objects.filter(reference=query.upper()).exists():
            found = selectors.entry_of_reference(reference=query)
            if found is not None:
                url = reverse(
                    "admin:lottery_drawentry_disqualify_waitlisted",
                    kwargs={"draw_id": found.draw.draw_id, "reference": found.reference},
                )
                self.message_user(
                    request,
                    format_html(
                        '{} <a href="{}">{}</a>',
                        _("%(ref)s is on the waitlist of %(draw)s at position %(position)s.")
                        % {
                            "ref": found.reference,
                            "draw": found.draw.draw_id,
                            "position": found.waitlist_position,
                        },
                        url,
                        _("Disqualify"),
                    ),
                    messages.INFO,
                )
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        return [
            path(
                "waitlisted/<slug:draw_id>/<str:reference>/disqualify/",
                self.admin_site.admin_view(self.disqualify_waitlisted_view),
                name="lottery_drawentry_disqualify_waitlisted",
            ),
            *super().get_urls(),
        ]

    def disqualify_waitlisted_view(self, request, draw_id: str, reference: str):
        if not self.has_view_permission(request):
            raise PermissionDenied
        draw = get_object_or_404(Draw, draw_id=draw_id)
        entry = selectors.entry_find(draw=draw, reference=reference) if draw.is_completed else None
        if entry is None:
            raise Http404
        form = DisqualifyForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            self._disqualify(request, entry, form.cleaned_data["note"])
            return HttpResponseRedirect(
                reverse("admin:lottery_drawentry_changelist") + f"?q={entry.reference}"
            )
        return TemplateResponse(
            request,
            "lottery/admin/disqualify.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Disqualify draw entries"),
                "queryset": [entry],
                "form": form,
                "single": True,
            },
        )

    def _disqualify(self, request, entry: DrawEntry, note: str) -> None:
        """Withdraw one entry as disqualified and tell the clerk what followed."""
        was_winner = entry.outcome == DrawEntry.Outcome.WINNER
        try:
            promoted = services.entry_withdraw(
                entry=entry, reason="disqualified", actor=request.user, note=note
            )
        except services.DrawError as error:
            self.message_user(request, f"{entry.reference}: {error}", messages.ERROR)
            return
        if promoted:
            outcome = _("disqualified; %(ref)s promoted") % {"ref": promoted.reference}
        elif was_winner:
            outcome = _("disqualified; nobody to promote")
        else:
            outcome = _("disqualified")
        self.message_user(request, f"{entry.reference}: {outcome}", messages.INFO)

    @admin.action(description=_("Disqualify (asks for a reason; the seat goes to the waitlist)"))
    def disqualify_action(self, request, queryset: QuerySet[DrawEntry]):
        form = DisqualifyForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            for entry in queryset:
                self._disqualify(request, entry, form.cleaned_data["note"])
            return None
        return TemplateResponse(
            request,
            "lottery/admin/disqualify.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Disqualify draw entries"),
                "queryset": queryset,
                "form": form,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(DrawEvent)
class DrawEventAdmin(ReadOnlyAdmin):
    list_display = ["draw", "kind", "at", "entry", "replaces", "reason_shown"]
    list_filter = ["kind", "draw"]

    @admin.display(description=_("reason"), ordering="reason")
    def reason_shown(self, obj: DrawEvent) -> str:
        return obj.reason_label
