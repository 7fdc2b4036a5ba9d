from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from letters import services
from letters.models import GrantLetter
from letters.views import letter_file_response


@admin.register(GrantLetter)
class GrantLetterAdmin(admin.ModelAdmin):
    """Issued letters are records: staff read and download them, nobody edits them."""

    list_display = [
        "__str__",
        "grant",
        "version",
        "kind",
        "state",
        "verification_code",
        "rendered_at",
        "download_link",
    ]
    list_filter = ["state", "kind", "grant__application__round"]
    search_fields = [
        "verification_code",
        "sha256",
        "grant__application__reference",
        "grant__application__company_legal_name",
        "grant__application__uscc",
    ]
    list_select_related = ["grant"]
    readonly_fields = [
        "grant",
        "version",
        "kind",
        "state",
        "verification_code",
        "sha256",
        "content_sha256",
        "size",
        "scheduled_at",
        "rendered_at",
        "state_changed_at",
        "download_link",
        "facts",
    ]
    exclude = ["file"]
    actions = ["render_pending"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        download = self.admin_site.admin_view(self.download_view)
        return [
            path("<int:letter_id>/download/", download, name="letters_grantletter_download"),
            *super().get_urls(),
        ]

    def download_view(self, request, letter_id: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        letter = get_object_or_404(GrantLetter, pk=letter_id)
        if not letter.is_rendered:
            raise PermissionDenied  # nothing to download yet
        return letter_file_response(letter)

    @admin.display(description=_("PDF"))
    def download_link(self, letter: GrantLetter):
        if not letter.is_rendered:
            return _("being prepared")
        url = reverse("admin:letters_grantletter_download", args=[letter.pk])
        return format_html('<a href="{}">{}</a>', url, letter.download_name)

    @admin.action(description=_("Render the selected letters that are still being prepared"))
    def render_pending(self, request, queryset):
        rendered = 0
        for letter in queryset.filter(state=GrantLetter.State.PENDING):
            services.letter_render(grant_id=letter.grant_id, version=letter.version)
            rendered += 1
        self.message_user(
            request, _("%(count)d letters rendered.") % {"count": rendered}, messages.SUCCESS
        )
