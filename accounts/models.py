"""Collectivities, accounts and their roles, the audit log, activation links, trusted browsers, API tokens,
designation imports."""

import uuid

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Collectivity(models.Model):
    """A territorial collectivity (a council): region, prefecture or province, commune.

    Codes and names are the HCP's (RGPH 2024), loaded by ``load_collectivities``.
    """

    class Kind(models.TextChoices):
        REGION = "region", _("Regional council")
        PROVINCE = "province", _("Prefectoral or provincial council")
        COMMUNE = "commune", _("Communal council")

    code = models.CharField(_("HCP code"), max_length=16, unique=True)
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices, db_index=True)
    class Subtype(models.TextChoices):  # of the middle level, and of communes
        PREFECTURE = "prefecture", _("prefecture")
        PROVINCE = "province", _("province")
        URBAN = "urban", _("urban commune")
        RURAL = "rural", _("rural commune")

    subtype = models.CharField(_("subtype"), max_length=16, blank=True, choices=Subtype.choices)
    name_fr = models.CharField(_("name (French)"), max_length=200)
    name_ar = models.CharField(_("name (Arabic)"), max_length=200)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="children",
    )
    region = models.ForeignKey(
        "self", verbose_name=_("region"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    province = models.ForeignKey(
        "self", verbose_name=_("prefecture or province"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("collectivity")
        verbose_name_plural = _("collectivities")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="region", parent__isnull=True) | Q(~Q(kind="region"), parent__isnull=False),
                name="collectivity_parent_by_kind",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"

    @property
    def name(self):
        return self.name_ar if (get_language() or "").startswith("ar") else self.name_fr

    @property
    def council_label(self):
        """'Conseil communal de Tanger' / 'مجلس جماعة طنجة'."""
        return f"{self.get_kind_display()} — {self.name}"


class AccountManager(UserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("role", User.Role.DGCT_ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """Every account. ``username`` is the CIN for collectivity and provincial accounts."""

    class Role(models.TextChoices):
        DGCT_ADMIN = "dgct_admin", _("DGCT administrator")
        MANAGER = "manager", _("Collectivity manager")
        AGENT = "agent", _("Collectivity agent")
        PROVINCIAL_OFFICE = "provincial_office", _("Provincial office")
        CMR_AGENT = "cmr_agent", _("CMR agent")

    COLLECTIVITY_ROLES = (Role.MANAGER, Role.AGENT, Role.PROVINCIAL_OFFICE)
    NATIONAL_ROLES = (Role.DGCT_ADMIN, Role.CMR_AGENT)

    role = models.CharField(_("role"), max_length=32, choices=Role.choices, db_index=True)
    collectivity = models.ForeignKey(
        Collectivity, verbose_name=_("collectivity"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="users",
    )
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    cin = models.CharField(_("CIN"), max_length=8, unique=True, null=True, blank=True)
    ppr = models.CharField(_("payroll number (PPR)"), max_length=10, blank=True)
    position = models.CharField(_("position"), max_length=150, blank=True)
    phone_office = models.CharField(_("office phone"), max_length=16, blank=True)
    phone_mobile = models.CharField(_("mobile"), max_length=16, blank=True)
    can_consult_affiliates = models.BooleanField(_("may consult affiliates"), default=True)
    can_prepare_dossiers = models.BooleanField(_("may prepare dossiers"), default=False)
    can_certify_dossiers = models.BooleanField(_("may certify dossiers"), default=False)
    # The DGCT names its privacy officer(s) (law 09-08), among its administrators or the CMR's agents:
    # they read the audit trail of personal data (accounts.permissions, AUDIT_READS).
    is_privacy_officer = models.BooleanField(_("privacy officer"), default=False, help_text=_(
        "Reads the trail of who saw which personal data (law 09-08). For a DGCT administrator or a CMR agent."))
    created_by = models.ForeignKey(
        "self", verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    # Inactivity (accounts.services.lock_inactive_accounts): warned once, then locked.
    inactivity_warned_at = models.DateTimeField(_("warned of inactivity at"), null=True, blank=True)
    locked_for_inactivity_at = models.DateTimeField(_("locked for inactivity at"), null=True, blank=True)
    reactivated_at = models.DateTimeField(_("reactivated at"), null=True, blank=True)

    objects = AccountManager()

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=["manager", "agent", "provincial_office"], collectivity__isnull=False)
                | Q(role__in=["dgct_admin", "cmr_agent"], collectivity__isnull=True),
                name="user_collectivity_by_role",
            ),
            # The circular designates one HR officer per council.
            models.UniqueConstraint(
                fields=["collectivity"], condition=Q(role="manager", is_active=True),
                name="one_active_manager_per_collectivity",
            ),
        ]

    def __str__(self):
        return self.get_full_name() or self.username

    def get_full_name(self):
        return self.full_name or super().get_full_name()

    @property
    def is_manager(self):
        return self.role == self.Role.MANAGER


class AuditEvent(models.Model):
    """Who did what to what, and when (law 09-08): append-only, shown to the DGCT in the admin."""

    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, verbose_name=_("actor"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_repr = models.CharField(_("actor"), max_length=200, blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    collectivity = models.ForeignKey(
        Collectivity, verbose_name=_("collectivity"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    on_behalf_of = models.ForeignKey(
        Collectivity, verbose_name=_("on behalf of"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    target_type = models.CharField(_("target type"), max_length=64, blank=True)
    target_id = models.CharField(_("target id"), max_length=64, blank=True, db_index=True)
    target_repr = models.CharField(_("target"), max_length=200, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self):  # the admin's headings: in the reader's language and time zone
        from django.utils.formats import date_format

        when = date_format(timezone.localtime(self.at), "SHORT_DATETIME_FORMAT")
        return f"{when} — {self.actor_repr} — {self.action_label}"

    @property
    def target_kind(self) -> str:
        """What the target is (an affiliate, a dossier...), in the reader's language."""
        from django.apps import apps

        try:
            return str(apps.get_model(self.target_type)._meta.verbose_name) if self.target_type else ""
        except (LookupError, ValueError):
            return ""

    @property
    def action_label(self) -> str:
        """The action in the reader's language (its code stays in ``action``)."""
        from .audit_actions import label

        return label(self.action)


class AuditSubject(models.Model):
    """An affiliate whose personal data an audit event touched (law 09-08): the one read, or each one a
    search or a list showed. Lets the privacy officer answer "who saw this person's record, and when"."""

    event = models.ForeignKey(AuditEvent, on_delete=models.CASCADE, related_name="subjects")
    affiliate_id = models.BigIntegerField(_("affiliate"), db_index=True)

    class Meta:
        verbose_name = _("person concerned")
        verbose_name_plural = _("persons concerned")
        constraints = [models.UniqueConstraint(fields=["event", "affiliate_id"], name="audit_subject_once")]

    def __str__(self):
        return f"{self.event_id}: {self.affiliate_id}"


class ActivationLink(models.Model):
    """A one-time, expiring link that lets an account holder choose his password: the first one
    (activation) or a new one (a reset he asked for, or his manager did).

    Only the SHA-256 of the token is stored; the token itself travels once, in the e-mail.
    """

    class Purpose(models.TextChoices):
        ACTIVATION = "activation", _("activation")
        RESET = "reset", _("password reset")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="activation_links")
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices, default=Purpose.ACTIVATION)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("activation link")
        verbose_name_plural = _("activation links")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.user} {self.created_at:%Y-%m-%d}"


class TrustedBrowser(models.Model):
    """A browser where the account holder ticked "trust this device": the second factor is not asked
    there again until ``expires_at``. The cookie holds a random token; only its SHA-256 is stored, so
    a copy of the database trusts no browser. Revoked by its holder, or all at once by a reset."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="trusted_browsers")
    token_hash = models.CharField(max_length=64, unique=True)
    label = models.CharField(_("browser"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("trusted since"), default=timezone.now)
    expires_at = models.DateTimeField(_("until"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("trusted browser")
        verbose_name_plural = _("trusted browsers")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.user} {self.label}"


class ApiToken(models.Model):
    """A key another HR application uses for the REST API in an account's name (``accounts.api_tokens``).

    Only the SHA-256 of the key is stored (the key is shown once, when made); ``prefix`` is its first
    characters, to recognise it in a list. A token never holds more than its account: read-only keeps
    it to reads, and ``collectivity`` (when set) narrows the account's scope to that one collectivity.
    """

    class Scope(models.TextChoices):
        READ = "read", _("read only")
        READ_WRITE = "read_write", _("read and write")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("account"))
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("key starts with"), max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(_("scope"), max_length=16, choices=Scope.choices, default=Scope.READ)
    collectivity = models.ForeignKey(Collectivity, null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="+", verbose_name=_("collectivity"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("created by"))
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(_("last used from"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def read_only(self) -> bool:
        return self.scope == self.Scope.READ

    def is_usable(self, now=None) -> bool:
        return self.revoked_at is None and self.expires_at > (now or timezone.now())


class DesignationImport(models.Model):
    """One upload of the designation spreadsheet: previewed first, applied on confirmation."""

    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("previewed")
        APPLIED = "applied", _("applied")
        REFUSED = "refused", _("refused")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by"))
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    filename = models.CharField(_("file"), max_length=255)
    sha256 = models.CharField(max_length=64)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PREVIEWED)
    file_errors = models.JSONField(default=list, blank=True)  # Deferred messages (eretraite.i18n) as JSON
    rows = models.JSONField(default=list, blank=True)  # the cells read, with each row's defects
    summary = models.JSONField(default=dict, blank=True)
    # Every row's outcome, as checked at the preview and then as applied: kept after confirmation.
    outcomes = models.JSONField(default=list, blank=True)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)

    class Meta:
        verbose_name = _("designation import")
        verbose_name_plural = _("designation imports")
        ordering = ["-uploaded_at"]

    def __str__(self):
        return f"{self.filename} ({self.uploaded_at:%Y-%m-%d %H:%M})"


class LinkEmail(models.Model):
    """An e-mail carrying a one-time link (activation, password reset), written in the transaction that
    needs it and sent by the worker (``accounts.mail``): a mail server down when 1,500 officers are
    imported loses nothing, and whether each link went out is known.

    The link itself is made when the e-mail is sent (only its hash is stored, the token travels once),
    so a retry sends a fresh link and the earlier unsent one never existed.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("waiting to be sent")
        DELIVERED = "delivered", _("delivered to the mail server")
        FAILED = "failed", _("failed")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="link_emails", verbose_name=_("account"))
    purpose = models.CharField(_("purpose"), max_length=16, choices=ActivationLink.Purpose.choices,
                               default=ActivationLink.Purpose.ACTIVATION)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(_("queued at"), default=timezone.now)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("queued by"))
    designation = models.ForeignKey(DesignationImport, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="emails", verbose_name=_("designation import"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    link = models.OneToOneField(ActivationLink, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="email", verbose_name=_("link sent"))

    class Meta:
        verbose_name = _("link e-mail")
        verbose_name_plural = _("link e-mails")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="link_email_due")]

    def __str__(self):
        return f"{self.get_purpose_display()} → {self.user}"

    @property
    def gave_up(self) -> bool:
        """Failed and not retried any more: the DGCT (or the account's manager) sends it again."""
        return self.status == self.Status.FAILED and self.next_attempt_at is None
