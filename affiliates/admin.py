"""The registry in the Django admin (DGCT): read-mostly, searchable by identifier."""

from django.contrib import admin

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
    list_display = ("affiliate", "field", "proposed_value", "status", "requested_at", "decided_at")
    list_filter = ("status",)
    # A request is decided only by the CMR's accept or refuse (affiliates.services), which applies
    # the change to the registry and writes its trail; the admin reads it.
    readonly_fields = [f.name for f in CorrectionRequest._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(FieldChange)
class FieldChangeAdmin(AuditedAdmin):
    list_display = ("affiliate", "field", "old_value", "new_value", "changed_at", "changed_by")
    raw_id_fields = ("affiliate", "changed_by", "correction")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
