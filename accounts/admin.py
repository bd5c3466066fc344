from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, Subquery
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from eretraite import confirm
from eretraite.i18n import Deferred
from eretraite.network import client_ip

from . import api_tokens, audit_actions, designation, mail, second_factor, services
from .admin_audit import AuditedAdmin, ReadOnlyAdmin
from .forms import DesignationUploadForm
from .models import ActivationLink, ApiToken, AuditEvent, Collectivity, DesignationImport, LinkEmail, User
from .permissions import Capability, can


@admin.register(Collectivity)
class CollectivityAdmin(AuditedAdmin):
    list_display = ("code", "name_fr", "name_ar", "kind", "subtype", "province", "region", "is_active")
    list_filter = ("kind", "subtype", "region", "is_active")
    search_fields = ("code", "name_fr", "name_ar")
    list_select_related = ("province", "region")
    raw_id_fields = ("parent", "region", "province")
    list_per_page = 50

    def has_delete_permission(self, request, obj=None):
        return False  # accounts, dossiers and the trail refer to it: it is made inactive, never deleted


@admin.register(User)
class UserAdmin(AuditedAdmin, BaseUserAdmin):
    list_display = ("username", "full_name", "role", "collectivity", "email", "is_active", "last_login",
                    "link_email")
    list_filter = ("role", "is_active", "is_staff", "link_emails__status", "collectivity__kind",
                   "collectivity__region")
    search_fields = ("username", "full_name", "cin", "ppr", "email", "collectivity__name_fr",
                     "collectivity__name_ar", "collectivity__code")
    list_select_related = ("collectivity",)
    raw_id_fields = ("collectivity", "created_by")
    ordering = ("role", "username")
    fieldsets = (
        # No password hash here (Django's widget shows its algorithm and salt): the reset action e-mails a link.
        (None, {"fields": ("username",)}),
        (gettext_lazy("Identity"), {"fields": ("full_name", "cin", "ppr", "email", "position", "phone_office",
                                               "phone_mobile")}),
        (gettext_lazy("Role"), {"fields": ("role", "collectivity", "can_consult_affiliates",
                                           "can_prepare_dossiers", "can_certify_dossiers", "is_privacy_officer",
                                           "created_by")}),
        (gettext_lazy("Access"), {"fields": ("is_active", "is_staff", "is_superuser", "last_login",
                                             "date_joined", "locked_for_inactivity_at", "reactivated_at",
                                             "link_emails_sent")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "role", "collectivity", "full_name", "cin", "email",
                                                 "password1", "password2")}),
    )
    readonly_fields = ("last_login", "date_joined", "created_by", "locked_for_inactivity_at", "reactivated_at",
                       "link_emails_sent")
    actions = ["send_activation_link", "reset_accounts", "unlock_accounts"]

    def get_queryset(self, request):
        latest = LinkEmail.objects.filter(user=OuterRef("pk")).order_by("-created_at", "-pk").values("status")[:1]
        return super().get_queryset(request).annotate(link_email_status=Subquery(latest))

    @admin.display(description=gettext_lazy("link e-mails"))
    def link_emails_sent(self, obj):
        emails = list(obj.link_emails.order_by("-created_at", "-pk")[:5]) if obj.pk else []
        if not emails:
            return "—"
        return format_html_join(mark_safe("<br>"), "{}: {}", (
            (e.get_purpose_display(), email_status_text(e)) for e in emails))

    @admin.display(description=gettext_lazy("link e-mail"), ordering="link_email_status")
    def link_email(self, obj):
        """The state of the account's latest activation or reset e-mail (delivered, waiting, failed)."""
        status = getattr(obj, "link_email_status", None)
        return LinkEmail.Status(status).label if status else "—"

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            user = self.get_object(request, id)
            services.record_audit("account.password_set_by_admin", actor=request.user, target=user,
                                  collectivity=user.collectivity, ip=client_ip(request))
        return response

    @admin.action(description=gettext_lazy("Reset the password and the second factor (a link is e-mailed)"))
    def reset_accounts(self, request, queryset):
        if confirm.pending(request, "admin.reset_accounts"):
            return confirm.ask_admin(self, request, "admin.reset_accounts", queryset, lines=[
                f"{user.get_full_name() or user.username} ({user.username}) — {user.email or '—'}"
                for user in queryset.order_by("username")])
        for user in queryset.exclude(email="").exclude(pk=request.user.pk):
            second_factor.reset_account(user, by=request.user)
        self.message_user(request, _("The accounts are reset; each was e-mailed a link to choose a new password."),
                          messages.SUCCESS)

    @admin.action(description=gettext_lazy("Unlock (restarts the inactivity clock)"))
    def unlock_accounts(self, request, queryset):
        for user in queryset.filter(is_active=False):
            services.reactivate(user, by=request.user)
        self.message_user(request, _("The accounts are unlocked."), messages.SUCCESS)

    @admin.action(description=gettext_lazy("Send a new activation link"))
    def send_activation_link(self, request, queryset):
        for user in queryset.filter(is_active=True).exclude(email=""):
            services.issue_activation_link(user, by=request.user)
        self.message_user(request, _("Activation links sent."), messages.SUCCESS)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and obj.is_active:
            services.reactivate(obj, by=request.user)
        services.record_audit("account.changed" if change else "account.created", actor=request.user,
                              target=obj, collectivity=obj.collectivity,
                              data={"fields": list(form.changed_data)})


class AuditActionFilter(admin.SimpleListFilter):
    """The actions by their labels, in the reader's language (the codes stay in the URL)."""

    title = gettext_lazy("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return sorted(((code, label) for code, label in audit_actions.LABELS.items()), key=lambda c: str(c[1]))

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor_repr", "action_shown", "target_repr", "collectivity", "on_behalf_of", "ip")
    list_filter = (AuditActionFilter, ("at", admin.DateFieldListFilter))
    search_fields = ("actor_repr", "target_repr", "target_id", "action")
    list_select_related = ("collectivity", "on_behalf_of")
    date_hierarchy = "at"

    def get_queryset(self, request):  # the persons each event names: reading the trail is recorded too
        return super().get_queryset(request).prefetch_related("subjects")

    exclude = ("action", "data", "target_type")
    readonly_fields = ("action_shown", "target_kind_shown", "details")

    @admin.display(description=gettext_lazy("target type"))
    def target_kind_shown(self, event):
        return event.target_kind

    @admin.display(description=gettext_lazy("action"), ordering="action")
    def action_shown(self, event):
        return event.action_label

    @admin.display(description=gettext_lazy("details"))
    def details(self, event):  # the recorded details as stored: technical, kept apart from the page's language
        import json

        return format_html('<code dir="ltr" translate="no">{}</code>', json.dumps(event.data, ensure_ascii=False))


@admin.register(ActivationLink)
class ActivationLinkAdmin(ReadOnlyAdmin):
    list_display = ("user", "created_at", "expires_at", "used_at", "created_by")
    list_select_related = ("user", "created_by")
    exclude = ("token_hash",)


def email_status_text(email: LinkEmail) -> str:
    """“delivered to the mail server on …”, “waiting to be sent”, “failed (3 attempts): … — next try …”."""
    when = timezone.localtime(email.delivered_at or email.last_attempt_at or email.created_at)
    if email.status == LinkEmail.Status.DELIVERED:
        return _("delivered to the mail server on %(when)s") % {"when": date_format(when, "SHORT_DATETIME_FORMAT")}
    if email.status == LinkEmail.Status.QUEUED:
        return _("waiting to be sent")
    reason = mail.failure_reason(email.last_error)
    if email.next_attempt_at:
        return _("failed (%(n)d attempts): %(error)s — next try at %(next)s") % {
            "n": email.attempts, "error": reason,
            "next": date_format(timezone.localtime(email.next_attempt_at), "SHORT_DATETIME_FORMAT")}
    return _("failed (%(n)d attempts): %(error)s — given up; send it again") % {"n": email.attempts, "error": reason}


@admin.register(LinkEmail)
class LinkEmailAdmin(ReadOnlyAdmin):
    """Every activation and reset e-mail, with whether it reached the mail server; failed ones are sent
    again from here (or from their import's page)."""

    list_display = ("user", "purpose", "status", "attempts", "created_at", "delivered_at", "next_attempt_at",
                    "last_error", "designation")
    list_filter = ("status", "purpose")
    search_fields = ("user__username", "user__full_name", "user__email", "user__cin")
    list_select_related = ("user", "designation")
    exclude = ()
    actions = ["send_again"]

    @admin.action(description=gettext_lazy("Send the failed e-mails again now"))
    def send_again(self, request, queryset):
        count = mail.retry(queryset.filter(status=LinkEmail.Status.FAILED), by=request.user)
        services.record_audit("link_emails.retried", actor=request.user, data={"count": count})
        self.message_user(request, _("E-mails to be sent again: %(n)d.") % {"n": count}, messages.SUCCESS)


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """The DGCT sees every API token (never its key) and may revoke them."""

    list_display = ("name", "prefix_shown", "user", "scope", "collectivity", "created_at", "expires_at",
                    "last_used_at", "revoked_at")

    @admin.display(description=gettext_lazy("prefix"), ordering="prefix")
    def prefix_shown(self, token):  # an identifier: kept apart from the page's language
        return format_html('<code dir="ltr" translate="no">{}</code>', token.prefix)
    list_filter = ("scope", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix", "user__username", "user__full_name")
    list_select_related = ("user", "collectivity")
    exclude = ("key_hash",)
    actions = ["revoke_tokens"]

    @admin.action(description=gettext_lazy("Revoke the selected tokens"))
    def revoke_tokens(self, request, queryset):
        if confirm.pending(request, "admin.revoke_tokens"):
            return confirm.ask_admin(self, request, "admin.revoke_tokens", queryset, lines=[
                f"{token.name} ({token.prefix}…) — {token.user}" for token in queryset.select_related("user")
                .filter(revoked_at=None).order_by("user__username", "name")])
        count = sum(1 for token in queryset.filter(revoked_at=None).select_related("user")
                    if api_tokens.revoke(token.user, token.pk, by=request.user, ip=client_ip(request)))
        self.message_user(request, _("%(n)d token(s) revoked.") % {"n": count}, messages.SUCCESS)


@admin.register(DesignationImport)
class DesignationImportAdmin(ReadOnlyAdmin):
    """Upload the designation spreadsheet, preview it row by row, confirm; export the current one."""

    list_display = ("filename", "uploaded_at", "uploaded_by", "status", "summary_text", "applied_at")
    list_filter = ("status",)
    list_select_related = ("uploaded_by",)
    change_list_template = "admin/accounts/designationimport/change_list.html"

    @admin.display(description=gettext_lazy("summary"))
    def summary_text(self, obj):
        s = obj.summary or {}
        if not s:
            return "; ".join(str(Deferred.from_json(e)) for e in obj.file_errors)[:120]
        return _("%(rows)s rows: %(create)s new, %(update)s updated, %(unchanged)s unchanged, %(error)s in error") % {
            k: s.get(k, 0) for k in ("rows", "create", "update", "unchanged", "error")}

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def get_urls(self):
        own = [
            path("upload/", self.admin_site.admin_view(self.upload_view), name="accounts_designation_upload"),
            path("<int:pk>/preview/", self.admin_site.admin_view(self.preview_view),
                 name="accounts_designation_preview"),
            path("export/", self.admin_site.admin_view(self.export_view), name="accounts_designation_export"),
        ]
        return own + super().get_urls()

    def _require(self, request):
        if not can(request.user, Capability.ADMINISTER):
            raise PermissionDenied

    def upload_view(self, request):
        self._require(request)
        form = DesignationUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > settings.DESIGNATION_MAX_BYTES:
                form.add_error("file", _("The file is larger than %(mb)d MB.") % {
                    "mb": settings.DESIGNATION_MAX_BYTES // (1024 * 1024)})
            else:
                record, _rows = services.preview_designation(upload.read(), filename=upload.name, by=request.user)
                return redirect("admin:accounts_designation_preview", record.pk)
        context = {**self.admin_site.each_context(request), "form": form, "opts": self.model._meta,
                   "title": _("Import the designation spreadsheet")}
        return TemplateResponse(request, "admin/accounts/designationimport/upload.html", context)

    def preview_view(self, request, pk):
        """The import's page: before confirmation, every row checked against the database as it is now;
        after, every row's outcome as applied, with each new officer's activation e-mail."""
        self._require(request)
        record = get_object_or_404(DesignationImport, pk=pk)
        if request.method == "POST" and request.POST.get("action") == "retry":
            failed = LinkEmail.objects.filter(designation=record, status=LinkEmail.Status.FAILED)
            count = mail.retry(failed, by=request.user)
            services.record_audit("link_emails.retried", actor=request.user, target=record, data={"count": count})
            self.message_user(request, _("E-mails to be sent again: %(n)d.") % {"n": count}, messages.SUCCESS)
            return redirect("admin:accounts_designation_preview", record.pk)
        if request.method == "POST" and record.status == DesignationImport.Status.PREVIEWED:
            try:
                summary, _rows = services.apply_designation(record, by=request.user)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
            else:
                self.message_user(request, _(
                    "Import done: %(create)s officers created (their activation e-mails are being sent), "
                    "%(update)s updated, %(unchanged)s unchanged, %(error)s rows skipped for errors.") % summary,
                    messages.SUCCESS)
            return redirect("admin:accounts_designation_preview", record.pk)
        if record.status == DesignationImport.Status.PREVIEWED:
            rows = designation.check_rows(record.rows)
            outcomes = [designation.Outcome.of(row) for row in rows]
            summary = designation.summarise(rows)
        else:
            outcomes = [designation.Outcome.from_json(o) for o in record.outcomes]
            summary = record.summary
        emails = {}
        if record.status == DesignationImport.Status.APPLIED:
            emails = {e.user_id: e for e in LinkEmail.objects.filter(designation=record)}
            for outcome in outcomes:
                email = emails.get(outcome.user_id) if outcome.action == "create" else None
                outcome.email_status = email_status_text(email) if email else ""
                outcome.email_failed = email is not None and email.status == LinkEmail.Status.FAILED
        counts = {status: sum(1 for e in emails.values() if e.status == status) for status in LinkEmail.Status.values}
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "record": record,
            "outcomes": outcomes, "summary": summary, "emails": counts,
            "file_errors": [Deferred.from_json(e) for e in record.file_errors],
            "title": _("Designation import: %(file)s") % {"file": record.filename},
        }
        return TemplateResponse(request, "admin/accounts/designationimport/preview.html", context)

    def export_view(self, request):
        self._require(request)
        data = services.export_designations()
        services.record_audit("designation.exported", actor=request.user)
        response = HttpResponse(
            data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="designations-{stamp}.xlsx"'
        return response



# Who may do what is the capability table (accounts.permissions), not Django's groups and permissions; locked
# accounts are unlocked and second factors reset with the account actions above. The admin pages of those
# libraries (English-only, and a second way to the same acts) are not offered.
LIBRARY_ADMINS = ("axes", "otp_static", "otp_totp")


def unregister_library_admins():
    from django.contrib.auth.models import Group

    for model in [Group, *(m for m in list(admin.site._registry) if m._meta.app_label in LIBRARY_ADMINS)]:
        if admin.site.is_registered(model):
            admin.site.unregister(model)
