from django.contrib import admin

from .models import ChecklistItem, Dossier, DossierKind, Event


class ChecklistItemInline(admin.TabularInline):
    model = ChecklistItem
    extra = 0
    fields = ("order", "code", "label_fr", "label_ar", "required", "condition", "is_active")


@admin.register(DossierKind)
class DossierKindAdmin(admin.ModelAdmin):
    list_display = ("code", "label_fr", "label_ar", "order", "is_active")
    inlines = [ChecklistItemInline]


class EventInline(admin.TabularInline):
    model = Event
    extra = 0
    can_delete = False
    fields = ("at", "actor_repr", "action", "from_state", "to_state", "text", "on_behalf_of")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Dossier)
class DossierAdmin(admin.ModelAdmin):
    list_display = ("reference", "kind", "affiliate", "collectivity", "state", "state_changed_at", "cmr_reference")
    list_filter = ("state", "kind", "collectivity__region")
    search_fields = ("reference", "cmr_reference", "affiliate__cin", "affiliate__ppr", "affiliate__affiliation_number")
    list_select_related = ("kind", "affiliate", "collectivity")
    raw_id_fields = ("affiliate", "collectivity", "parent", "created_by", "assigned_to", "submitted_by",
                     "certified_by")
    readonly_fields = ("state", "state_changed_at", "certified_at", "certified_by", "round", "cmr_reference")
    inlines = [EventInline]

    def has_add_permission(self, request):
        return False  # dossiers are opened from the portal, through the workflow
