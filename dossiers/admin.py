from django.contrib import admin

from accounts.admin_audit import AuditedAdmin

from .models import ChecklistItem, Dossier, DossierKind, Event


class ChecklistItemInline(admin.TabularInline):
    model = ChecklistItem
    extra = 0
    fields = ("order", "code", "label_fr", "label_ar", "required", "condition", "is_active")


@admin.register(DossierKind)
class DossierKindAdmin(AuditedAdmin):
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
class DossierAdmin(AuditedAdmin):
    list_display = ("reference", "kind", "affiliate", "collectivity", "state", "state_changed_at", "cmr_reference")
    list_filter = ("state", "kind", "collectivity__region")
    search_fields = ("reference", "cmr_reference", "affiliate__cin", "affiliate__ppr", "affiliate__affiliation_number")
    list_select_related = ("kind", "affiliate", "collectivity")
    # What the dossier is (its collectivity, affiliate, kind), who acted on it and its timeline are
    # facts of the workflow: the admin shows them and changes none (dossiers.services acts).
    readonly_fields = [f.name for f in Dossier._meta.fields]
    inlines = [EventInline]

    def has_add_permission(self, request):
        return False  # dossiers are opened from the portal, through the workflow

    def has_delete_permission(self, request, obj=None):
        return False  # a dossier is never deleted: it is withdrawn or rejected, and its trail kept
