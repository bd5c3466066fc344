"""The registry in the Django admin (DGCT): read-mostly, searchable by identifier."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.admin_audit import AuditedAdmin

from .models import (
    Affiliate,
    CorrectionRequest,
    FamilyMember,
    FieldChange,
    SalaryRecord,
    ServicePeriod,
)


class PeriodInline(admin.TabularInline):
    model = ServicePeriod
    extra = 0


class SalaryInline(admin.TabularInline):
    model = SalaryRecord
    extra = 0


class FamilyInline(admin.TabularInline):
    model = FamilyMember
    extra = 0


@admin.register(Affiliate)
class AffiliateAdmin(AuditedAdmin):
    list_display = (
        "affiliation_number",
        "ppr",
        "cin",
        "last_name_fr",
        "first_name_fr",
        "birth_date",
        "collectivity",
        "status",
    )
    list_filter = ("status", "sex")
    search_fields = ("=affiliation_number", "=ppr", "=cin")
    raw_id_fields = ("collectivity",)
    list_select_related = ("collectivity",)
    show_full_result_count = False  # a million rows: no COUNT(*) on every page
    inlines = [PeriodInline, SalaryInline, FamilyInline]


@admin.register(CorrectionRequest)
class CorrectionRequestAdmin(AuditedAdmin):
    # Labels and values as the reader's language writes them (the stored canonical text is not shown).
    list_display = ("affiliate", "what", "current", "proposed", "status", "requested_at", "decided_at")
    list_filter = ("status",)
    # A request is decided only by the CMR's accept or refuse (affiliates.services), which applies
    # the change to the registry and writes its trail; the admin reads it.
    readonly_fields = [*(f.name for f in CorrectionRequest._meta.fields
                         if f.name not in ("field", "current_value", "proposed_value")), "what", "current", "proposed"]
    exclude = ("field", "current_value", "proposed_value")

    @admin.display(description=_("field"))
    def what(self, correction):
        return correction.field_label

    @admin.display(description=_("value in the registry"))
    def current(self, correction):
        return correction.current_shown

    @admin.display(description=_("proposed value"))
    def proposed(self, correction):
        return correction.proposed_shown

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(FieldChange)
class FieldChangeAdmin(AuditedAdmin):
    list_display = ("affiliate", "what", "old", "new", "changed_at", "changed_by")
    raw_id_fields = ("affiliate", "changed_by", "correction")

    @admin.display(description=_("field"))
    def what(self, change):
        return change.field_label

    @admin.display(description=_("old value"))
    def old(self, change):
        return change.old_shown

    @admin.display(description=_("new value"))
    def new(self, change):
        return change.new_shown

    def has_add_permission(self, request):  # written only by an accepted correction (affiliates.services)
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
