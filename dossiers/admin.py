from django.contrib import admin
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin_audit import AuditedAdmin

from . import timeline
from .models import ChecklistItem, Dossier, DossierKind, Event
from .workflow import State


def _state(code):
    try:
        return State(code).label if code else ""
    except ValueError:
        return code


class ChecklistItemInline(admin.TabularInline):
    model = ChecklistItem
    extra = 0
    fields = ("order", "code", "label_fr", "label_ar", "required", "condition", "is_active")


@admin.register(DossierKind)
class DossierKindAdmin(AuditedAdmin):
    list_display = ("code_shown", "label_fr", "label_ar", "order", "is_active")
    inlines = [ChecklistItemInline]

    @admin.display(description=_("code"), ordering="code")
    def code_shown(self, kind):  # an identifier, kept apart from the page's language
        return format_html('<code dir="ltr" translate="no">{}</code>', kind.code)


class EventInline(admin.TabularInline):
    model = Event
    extra = 0
    can_delete = False
    # Labels in the reader's language, never the stored codes (``dossiers.timeline``, the states' labels).
    fields = ("when", "who", "what", "from_shown", "to_shown", "said", "on_behalf_of_shown")
    readonly_fields = fields

    @admin.display(description=_("at"))
    def when(self, event):
        return date_format(timezone.localtime(event.at), "SHORT_DATETIME_FORMAT")

    @admin.display(description=_("text"))
    def said(self, event):
        return event.text

    @admin.display(description=_("by"))
    def who(self, event):
        return timeline.event_actor(event)

    @admin.display(description=_("event"))
    def what(self, event):
        return timeline.event_label(event)

    @admin.display(description=_("from the state"))
    def from_shown(self, event):
        return _state(event.from_state)

    @admin.display(description=_("to the state"))
    def to_shown(self, event):
        return _state(event.to_state)

    @admin.display(description=_("on behalf of"))
    def on_behalf_of_shown(self, event):
        return event.on_behalf_of.name if event.on_behalf_of_id else ""

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
