"""The Django admin in the law 09-08 trail: every admin page that shows a person's record, every
change (with its old and new values) and every deletion is an audit event (``accounts.reads``).

``AuditedAdmin`` is the base of every ``ModelAdmin`` of the project (``AuditedInline`` of their
inlines' changes): the admin is not a back door around the trail.
"""

from django.contrib import admin

from .reads import record_read


def affiliates_of(obj) -> list:
    """The persons (affiliate ids) whose data ``obj`` is."""
    if obj is None:
        return []
    if obj._meta.label_lower == "affiliates.affiliate":
        return [obj.pk]
    if obj._meta.label_lower == "accounts.auditevent":  # the trail itself names persons
        return [subject.affiliate_id for subject in obj.subjects.all()]
    affiliate_id = getattr(obj, "affiliate_id", None)
    if affiliate_id is None and getattr(obj, "dossier_id", None):  # a document, an event, a transmission
        affiliate_id = obj.dossier.affiliate_id
    return [affiliate_id] if affiliate_id else []


def _text(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "pk") and not isinstance(value, str | int):
        return f"{value} (#{value.pk})"
    if isinstance(value, list | tuple | set) or hasattr(value, "all"):
        items = value.all() if hasattr(value, "all") else value
        return ", ".join(sorted(_text(v) for v in items))
    return str(value)[:500]


def changes_of(form) -> dict:
    """``{field: [old, new]}`` for the fields ``form`` changed (secrets shown as changed, never as text)."""
    changes = {}
    for name in form.changed_data:
        if name in ("password", "password1", "password2", "key_hash", "token_hash"):
            changes[name] = ["…", "…"]
            continue
        old = form.initial.get(name)  # a related record: its id
        changes[name] = [_text(old), _text(form.cleaned_data.get(name))]
    return changes


class AuditedAdmin(admin.ModelAdmin):
    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if change and obj is not None and request.method == "GET":
            record_read(request, "admin.viewed", target=obj, affiliates=affiliates_of(obj),
                        data={"model": obj._meta.label_lower})
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl") if hasattr(response, "context_data") else None
        if changelist is not None and request.method == "GET":
            shown = [pk for obj in changelist.result_list for pk in affiliates_of(obj)]
            if shown:
                record_read(request, "admin.listed", affiliates=shown,
                            data={"model": self.model._meta.label_lower, "query": request.GET.urlencode()[:500]})
        return response

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        record_read(request, "admin.changed" if change else "admin.added", target=obj, affiliates=affiliates_of(obj),
                    data={"model": obj._meta.label_lower, "changes": changes_of(form)})

    def delete_model(self, request, obj):
        affiliates, label = affiliates_of(obj), obj._meta.label_lower
        record_read(request, "admin.deleted", target=obj, affiliates=affiliates, data={"model": label})
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            record_read(request, "admin.deleted", target=obj, affiliates=affiliates_of(obj),
                        data={"model": obj._meta.label_lower})
        super().delete_queryset(request, queryset)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        for inline_form in formset.forms:
            instance = inline_form.instance
            if inline_form in getattr(formset, "deleted_forms", []) or not inline_form.has_changed() or not instance.pk:
                continue
            record_read(request, "admin.changed", target=instance, affiliates=affiliates_of(instance) or affiliates_of(
                form.instance), data={"model": instance._meta.label_lower, "changes": changes_of(inline_form)})
        for deleted in getattr(formset, "deleted_objects", []):
            record_read(request, "admin.deleted", target=deleted, affiliates=affiliates_of(deleted) or affiliates_of(
                form.instance), data={"model": deleted._meta.label_lower})


class ReadOnlyAdmin(AuditedAdmin):
    """A record the admin shows and never changes (the trail, the outbox's rows, the conflicts)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
