"""Staff screens for rounds and applications.

- Applicant data is read-only: staff decide eligibility, they never edit what a founder submitted.
- Reviewers (permission `decide_eligibility`) decide on the change page or in bulk, always with a
  reason; the decision goes through `services.application_decide` (audit, e-mail, history).
- A round's rules freeze when it opens: later changes are refused with a message naming them.
- Every change is kept field by field (simple_history: who, when, what).
"""

import copy
import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .cities import CITIES
from .models import Application, CityProgram, Commitment, PreferredCenter, Round, Stratum
from .services import (
    ROUND_RULE_FIELDS,
    ApplicationError,
    application_decide,
    round_rules_changed_after_opening,
)

DECISION_CHOICES = [
    (Application.Status.ELIGIBLE, _("Eligible")),
    (Application.Status.INELIGIBLE, _("Not eligible")),
]


@admin.register(CityProgram)
class CityProgramAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name_zh", "name_en", "city_zh", "contact_email"]
    search_fields = ["code", "name_zh", "name_en"]


# --- rounds ---------------------------------------------------------------------------------------
class RoundAdminForm(forms.ModelForm):
    # No Meta: ModelAdmin builds it with the round's fields.

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None or self.errors:
            return cleaned
        # The instance is only updated after clean(): compare what was typed with what is stored.
        candidate = copy.copy(self.instance)
        for name in ROUND_RULE_FIELDS:
            if name not in cleaned:
                continue
            value, stored = cleaned[name], getattr(self.instance, name)
            # The admin widget shows whole seconds; a round made in code may have microseconds.
            if (
                isinstance(value, datetime.datetime)
                and isinstance(stored, datetime.datetime)
                and abs(value - stored) < datetime.timedelta(seconds=1)
            ):
                cleaned[name] = value = stored
            setattr(candidate, name, value)
        changed = round_rules_changed_after_opening(round=candidate)
        if changed:
            stored = Round.objects.get(pk=self.instance.pk)
            labels = ", ".join(str(Round._meta.get_field(name).verbose_name) for name in changed)
            raise ValidationError(
                _(
                    "This round opened on %(date)s, so its rules are frozen and cannot change: "
                    "%(fields)s. Create a new round instead."
                ),
                params={
                    "date": date_format(timezone.localtime(stored.opens_at), "DATETIME_FORMAT"),
                    "fields": labels,
                },
                code="rules_frozen",
            )
        return cleaned


class StratumInlineFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        round_ = self.instance
        if round_.pk is None:
            return
        stored = Round.objects.filter(pk=round_.pk).first()
        if stored is None or not stored.rules_frozen:
            return
        changed = any(form.has_changed() for form in self.forms) or bool(self.deleted_forms)
        if changed:
            raise ValidationError(
                _(
                    "This round has opened, so its strata (reserved places and caps) are frozen "
                    "and cannot change."
                ),
                code="strata_frozen",
            )


class StratumInline(admin.TabularInline):
    model = Stratum
    formset = StratumInlineFormSet
    extra = 0


@admin.register(Round)
class RoundAdmin(SimpleHistoryAdmin):
    form = RoundAdminForm
    list_display = ["code", "title_zh", "program", "opens_at", "closes_at", "winners", "is_open"]
    list_filter = ["program"]
    search_fields = ["code", "title_zh", "title_en"]
    inlines = [StratumInline]
    show_facets = admin.ShowFacets.ALWAYS

    @admin.display(boolean=True, description=_("open now"))
    def is_open(self, obj: Round) -> bool:
        return obj.is_open

    def has_delete_permission(self, request, obj=None):
        # A round that has opened is part of the public record.
        if obj is not None and obj.rules_frozen:
            return False
        return super().has_delete_permission(request, obj)


# --- applications -----------------------------------------------------------------------------------
class SizeBandFilter(admin.SimpleListFilter):
    title = _("size band")
    parameter_name = "size_band"
    BANDS = {
        "1-9": {"employees__lt": 10},
        "10-19": {"employees__gte": 10, "employees__lt": 20},
        "20-49": {"employees__gte": 20, "employees__lt": 50},
        "50+": {"employees__gte": 50},
    }

    def lookups(self, request, model_admin):
        return [(band, _("%(band)s employees") % {"band": band}) for band in self.BANDS]

    def queryset(self, request, queryset):
        if self.value() in self.BANDS:
            return queryset.filter(**self.BANDS[self.value()])
        return queryset


class CityFilter(admin.SimpleListFilter):
    title = _("registration city")
    parameter_name = "city"

    def lookups(self, request, model_admin):
        present = set(model_admin.model.objects.values_list("registration_city", flat=True))
        return [(code, f"{zh} {en}") for code, zh, en in CITIES if code in present]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(registration_city=self.value())
        return queryset


class DecisionForm(forms.Form):
    """The intermediate page of the bulk decision: a reason is required."""

    status = forms.ChoiceField(label=_("Decision"), choices=DECISION_CHOICES)
    reason = forms.CharField(
        label=_("Reason (shown to the founder)"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        max_length=2000,
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(_("Give the reason for the decision"), code="required")
        return reason


class ApplicationDecisionAdminForm(forms.ModelForm):
    """The change page: applicant data read-only, plus a decision with a required reason."""

    decision = forms.ChoiceField(
        label=_("Decide eligibility"),
        choices=[("", _("No decision now")), *DECISION_CHOICES],
        required=False,
    )
    decision_reason = forms.CharField(
        label=_("Reason (shown to the founder)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        max_length=2000,
    )

    class Meta:
        model = Application
        fields: list[str] = []

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") and not (cleaned.get("decision_reason") or "").strip():
            self.add_error(
                "decision_reason",
                ValidationError(_("Give the reason for the decision"), code="required"),
            )
        if cleaned.get("decision") and self.instance.status == Application.Status.WITHDRAWN:
            self.add_error(
                "decision", ValidationError(_("A withdrawn application cannot be decided"))
            )
        return cleaned


class PreferredCenterInline(admin.TabularInline):
    model = PreferredCenter
    extra = 0
    can_delete = False
    readonly_fields = ["position", "center"]
    fields = ["position", "center"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CommitmentInline(admin.TabularInline):
    model = Commitment
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "target_date"]
    fields = ["kind", "target_date"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


APPLICANT_FIELDS = [
    "reference",
    "round",
    "submitted_at",
    "language",
    "company_legal_name",
    "uscc",
    "registration_city",
    "founded_on",
    "employees",
    "revenue_band",
    "website",
    "founder_name",
    "email",
    "mobile",
    "gpu_hours_requested",
    "purpose",
    "consent_terms",
    "consent_publish_name",
]
ELIGIBILITY_FIELDS = [
    "status",
    "stratum",
    "eligibility_rule",
    "eligibility_reason_zh",
    "eligibility_reason_en",
    "decided_by",
    "decided_at",
    "withdrawn_at",
]


@admin.register(Application)
class ApplicationAdmin(SimpleHistoryAdmin):
    form = ApplicationDecisionAdminForm
    list_display = [
        "reference",
        "company_legal_name",
        "round",
        "status",
        "registration_city",
        "employees",
        "submitted_at",
    ]
    list_filter = ["round", "status", CityFilter, SizeBandFilter]
    show_facets = admin.ShowFacets.ALWAYS
    search_fields = ["reference", "company_legal_name", "=uscc"]
    list_select_related = ["round"]
    date_hierarchy = "submitted_at"
    readonly_fields = APPLICANT_FIELDS + ELIGIBILITY_FIELDS
    inlines = [PreferredCenterInline, CommitmentInline]
    actions = ["decide_in_bulk"]
    history_list_display = ["status", "eligibility_rule"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (_("Submitted by the founder (read-only)"), {"fields": APPLICANT_FIELDS}),
            (_("Eligibility"), {"fields": ELIGIBILITY_FIELDS}),
        ]
        if obj is not None and self.has_decide_eligibility_permission(request):
            fieldsets.append((_("Decision"), {"fields": ["decision", "decision_reason"]}))
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        if not (obj is not None and self.has_decide_eligibility_permission(request)):
            # Without the decision permission the page is a read-only view.
            kwargs["form"] = forms.ModelForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_search_results(self, request, queryset, search_term):
        # A USCC is found however it was typed (full-width, lower case, with spaces).
        from .uscc import normalise

        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        code = normalise(search_term)
        if len(code) == 18:
            queryset |= self.model.objects.filter(uscc=code)
        return queryset, may_have_duplicates

    # Permissions: nobody adds or deletes applications here (founders apply; the record stays).
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_decide_eligibility_permission(self, request) -> bool:
        return request.user.has_perm("applications.decide_eligibility")

    def has_change_permission(self, request, obj=None):
        return self.has_decide_eligibility_permission(request)

    def save_model(self, request, obj, form, change):
        decision = form.cleaned_data.get("decision")
        if not decision:
            return  # applicant data is read-only; nothing else on the page can change
        if not self.has_decide_eligibility_permission(request):
            raise PermissionDenied
        try:
            application_decide(
                application=obj,
                status=decision,
                reason=form.cleaned_data["decision_reason"],
                actor=request.user,
            )
        except ApplicationError as error:
            self.message_user(
                request, _("The decision was refused: %(why)s") % {"why": error}, messages.ERROR
            )
        obj.refresh_from_db()

    @admin.action(
        description=_("Decide eligibility of the selected applications…"),
        permissions=["decide_eligibility"],
    )
    def decide_in_bulk(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        if "apply" in request.POST:
            form = DecisionForm(request.POST)
            if form.is_valid():
                decided, refused = 0, []
                for application in queryset:
                    try:
                        application_decide(
                            application=application,
                            status=form.cleaned_data["status"],
                            reason=form.cleaned_data["reason"],
                            actor=request.user,
                        )
                        decided += 1
                    except ApplicationError:
                        refused.append(application.reference)
                self.message_user(
                    request,
                    _("Decided %(count)s application(s).") % {"count": decided},
                    messages.SUCCESS,
                )
                if refused:
                    self.message_user(
                        request,
                        _("Not decided (withdrawn, or the draw has frozen the entrants): %(refs)s")
                        % {"refs": ", ".join(refused)},
                        messages.WARNING,
                    )
                return None
        else:
            form = DecisionForm()
        return TemplateResponse(
            request,
            "applications/admin/decide.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Decide eligibility"),
                "form": form,
                "queryset": queryset,
                "opts": self.model._meta,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "media": self.media,
            },
        )
