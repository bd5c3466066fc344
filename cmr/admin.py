from django.contrib import admin

from .models import CmrEvent


@admin.register(CmrEvent)
class CmrEventAdmin(admin.ModelAdmin):
    list_display = ("cmr_reference", "portal_dossier_id", "stage", "occurred_at", "applied_at")
    list_filter = ("stage",)
    search_fields = ("cmr_reference", "portal_dossier_id", "event_id")
    date_hierarchy = "applied_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
