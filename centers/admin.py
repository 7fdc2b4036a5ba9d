from django.contrib import admin, messages
from django.db import models
from django.utils.translation import gettext_lazy as _

from .models import CapacityEntry, Center, CenterCapacity, GpuType, WebhookEndpoint
from .selectors import capacity_available
from .services import (
    CapacityExceeded,
    capacity_set,
    center_usage_secret_rotate,
    endpoint_create,
    endpoint_disable,
    endpoint_enable,
    endpoint_rotate_secret,
)


class GpuTypeInline(admin.TabularInline):
    model = GpuType
    extra = 0


@admin.register(Center)
class CenterAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "city_zh", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name_zh", "name_en"]
    inlines = [GpuTypeInline]
    # --- issue 4: the usage-report secret is shown once, when created or rotated ---
    exclude = ["usage_secret"]
    actions = ["rotate_usage_secret"]

    @admin.action(
        description=_("Rotate the usage-report secret (shown once)"), permissions=["change"]
    )
    def rotate_usage_secret(self, request, queryset):
        for center in queryset:
            secret = center_usage_secret_rotate(center=center, actor=request.user)
            messages.warning(
                request,
                _("New usage-report secret for %(center)s (shown once, copy it now): %(secret)s")
                % {"center": center.code, "secret": secret},
            )


# --- issue 4: capacity ledger and billing webhook endpoints ---


class CapacityEntryInline(admin.TabularInline):
    model = CapacityEntry
    extra = 0
    fields = ["created_at", "kind", "amount", "grant", "tranche", "actor", "reason"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CenterCapacity)
class CenterCapacityAdmin(admin.ModelAdmin):
    list_display = ["round", "gpu_type", "unit", "capacity", "allocated", "available_display"]
    list_filter = ["round", "gpu_type__center"]
    list_select_related = ["round", "gpu_type__center"]
    readonly_fields = ["allocated", "ledger_available"]
    inlines = [CapacityEntryInline]

    @admin.display(description=_("unit"))
    def unit(self, obj):
        # A property of the model, so it has no verbose name of its own.
        return obj.gpu_type.get_unit_display()

    @admin.display(description=_("available"))
    def available_display(self, obj):
        return obj.available

    @admin.display(description=_("available (recomputed from the ledger)"))
    def ledger_available(self, obj):
        return capacity_available(capacity=obj) if obj.pk else "—"

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return [*fields, "gpu_type", "round"] if obj else fields

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        try:
            capacity_set(
                capacity=obj,
                new_capacity=form.cleaned_data["capacity"],
                actor=request.user,
                reason="changed in admin",
            )
        except CapacityExceeded:
            messages.error(request, _("Capacity cannot go below what is already allocated."))


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = [
        "center",
        "url",
        "is_active",
        "disabled_reason",
        "secret_rotated_at",
        "previous_secret_until",
    ]
    list_filter = ["is_active", "center"]
    fields = ["center", "url", "description", "is_active"]
    # A billing endpoint typed without a scheme is meant to be HTTPS (Django 6 will assume so).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    actions = ["send_ping", "rotate_secret", "disable", "enable"]

    def get_readonly_fields(self, request, obj=None):
        # Enable/disable goes through the actions, so each change is recorded with who.
        return ["center", "is_active"] if obj else ["is_active"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        endpoint, secret = endpoint_create(
            center=obj.center,
            url=obj.url,
            description=obj.description,
            actor=request.user,
        )
        obj.pk = endpoint.pk
        messages.warning(
            request,
            _("Signing secret for %(url)s (shown once, give it to the center now): %(secret)s")
            % {"url": endpoint.url, "secret": secret},
        )

    @admin.action(description=_("Send a ping"), permissions=["change"])
    def send_ping(self, request, queryset):
        from grants.services import endpoint_ping

        for endpoint in queryset:
            endpoint_ping(endpoint=endpoint, actor=request.user)
        messages.success(request, _("Ping queued; see Webhook deliveries for the answer."))

    @admin.action(description=_("Rotate the signing secret (24 h overlap)"), permissions=["change"])
    def rotate_secret(self, request, queryset):
        for endpoint in queryset:
            secret = endpoint_rotate_secret(endpoint=endpoint, actor=request.user)
            messages.warning(
                request,
                _(
                    "New secret for %(url)s (shown once). Both signatures are sent for 24 hours: "
                    "%(secret)s"
                )
                % {"url": endpoint.url, "secret": secret},
            )

    @admin.action(description=_("Disable"), permissions=["change"])
    def disable(self, request, queryset):
        for endpoint in queryset:
            endpoint_disable(endpoint=endpoint, actor=request.user, reason="disabled by staff")
        messages.success(request, _("Disabled; deliveries wait until enabled."))

    @admin.action(description=_("Enable"), permissions=["change"])
    def enable(self, request, queryset):
        for endpoint in queryset:
            endpoint_enable(endpoint=endpoint, actor=request.user)
        messages.success(request, _("Enabled; waiting deliveries are sent now."))
