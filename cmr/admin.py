from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.admin_audit import AuditedAdmin, ReadOnlyAdmin

from . import sender
from .models import CmrEvent, StageConflict, Transmission


@admin.register(CmrEvent)
class CmrEventAdmin(AuditedAdmin):
    list_display = ("cmr_reference", "portal_dossier_id", "stage", "occurred_at", "applied_at")
    list_filter = ("stage",)
    search_fields = ("cmr_reference", "portal_dossier_id", "event_id")
    date_hierarchy = "applied_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Transmission)
class TransmissionAdmin(AuditedAdmin):
    list_display = ("idempotency_key", "dossier", "round", "status", "attempts", "next_attempt_at",
                    "cmr_reference", "delivered_at", "short_error")
    list_filter = ("status", "round")
    search_fields = ("idempotency_key", "cmr_reference", "last_error")
    date_hierarchy = "created_at"
    readonly_fields = [*(f.name for f in Transmission._meta.fields if f.name != "last_error"), "plain_error",
                       "technical_error"]
    exclude = ("last_error",)
    list_select_related = ("dossier",)

    @admin.display(description=_("last error"))
    def plain_error(self, obj):
        return obj.plain_error

    @admin.display(description=_("Technical detail (for the support)"))
    def technical_error(self, obj):
        return format_html('<code dir="ltr" translate="no">{}</code>', obj.last_error) if obj.last_error else "—"
    actions = ["retry"]

    @admin.display(description=_("last error"))
    def short_error(self, obj):  # said plainly; the technical text is on the transmission's own page
        return obj.plain_error

    @admin.action(description=_("Retry the selected transmissions now"))
    def retry(self, request, queryset):
        count = 0
        for pk in queryset.filter(status__in=[Transmission.Status.FAILED, Transmission.Status.PENDING]) \
                .values_list("pk", flat=True):
            sender.retry_transmission(pk, by=request.user)
            count += 1
        self.message_user(request, ngettext("%d transmission queued again.", "%d transmissions queued again.",
                                            count) % count)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StageConflict)
class StageConflictAdmin(ReadOnlyAdmin):
    """Stage reports the portal could not apply, with both sides' stages: the DGCT follows them here."""

    list_display = ("cmr_reference", "dossier", "cmr_stage", "portal_state", "times", "first_seen_at", "last_seen_at",
                    "resolved_at", "resolution")
    list_filter = (("resolved_at", admin.EmptyFieldListFilter), "cmr_stage")
    search_fields = ("cmr_reference", "event_id")
    list_select_related = ("dossier",)
    readonly_fields = [f.name for f in StageConflict._meta.fields]
