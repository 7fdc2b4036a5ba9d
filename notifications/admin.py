from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import Notification
from .registry import KINDS
from .services import notification_resend


class KindFilter(admin.SimpleListFilter):
    """Filter by every registered kind, described in words, even before one was sent."""

    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [(code, f"{code}: {kind.description}") for code, kind in KINDS.items()]

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The message log: what was sent to whom, in which language, and whether it arrived."""

    list_display = [
        "created_at",
        "kind",
        "to_email",
        "language",
        "state",
        "attempts",
        "sent_at",
        "short_error",
    ]
    list_filter = ["state", KindFilter, "language", "created_at"]
    search_fields = ["to_email", "subject", "related_id"]
    readonly_fields = [f.name for f in Notification._meta.fields]
    date_hierarchy = "created_at"
    actions = ["resend"]
    show_facets = admin.ShowFacets.ALWAYS

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # The log is the record of what the portal told people; it is never edited away.
        return False

    @admin.display(description=_("last error"))
    def short_error(self, obj: Notification) -> str:
        return obj.last_error[:80]

    @admin.action(description=_("Resend the selected messages"), permissions=["change"])
    def resend(self, request, queryset):
        count = 0
        for notification in queryset:
            notification_resend(notification=notification, actor=request.user)
            count += 1
        self.message_user(
            request,
            ngettext("%d message queued again.", "%d messages queued again.", count) % count,
            messages.SUCCESS,
        )
