"""Dossiers: kinds and their checklists, the dossier, its documents, timeline and exchanges."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.models import Collectivity

from .workflow import CLOSED, State


class Bilingual(models.Model):
    label_fr = models.CharField(_("label (French)"), max_length=200)
    label_ar = models.CharField(_("label (Arabic)"), max_length=200)

    class Meta:
        abstract = True

    def __str__(self):
        return self.label

    @property
    def label(self):
        return self.label_ar if (get_language() or "").startswith("ar") else self.label_fr


class DossierKind(Bilingual):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("dossier kind")
        verbose_name_plural = _("dossier kinds")
        ordering = ["order", "code"]


class ChecklistItem(Bilingual):
    class Condition(models.TextChoices):
        ALWAYS = "", _("always")
        MARRIED = "married", _("when the affiliate has a spouse")
        CHILDREN = "children", _("when the affiliate has children under 21")
        CHILD_16_21 = "child_16_21", _("one for each child aged 16 to 21")

    kind = models.ForeignKey(DossierKind, on_delete=models.CASCADE, related_name="items", verbose_name=_("kind"))
    code = models.SlugField(_("code"), max_length=40)
    required = models.BooleanField(_("required"), default=True)
    condition = models.CharField(_("condition"), max_length=16, choices=Condition.choices, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["kind", "order", "pk"]
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="checklist_item_code_per_kind")]


class Dossier(models.Model):
    reference = models.UUIDField(_("reference"), default=uuid.uuid4, unique=True, editable=False)
    kind = models.ForeignKey(DossierKind, on_delete=models.PROTECT, related_name="+", verbose_name=_("kind"))
    affiliate = models.ForeignKey("affiliates.Affiliate", on_delete=models.PROTECT, related_name="dossiers",
                                  verbose_name=_("affiliate"))
    # The employer when the dossier was opened: what scoping filters on.
    collectivity = models.ForeignKey(Collectivity, on_delete=models.PROTECT, related_name="dossiers",
                                     verbose_name=_("collectivity"))
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="supplements",
                               verbose_name=_("earlier dossier"))
    state = models.CharField(_("state"), max_length=32, choices=State.choices, default=State.DRAFT, db_index=True)
    state_changed_at = models.DateTimeField(_("in this state since"), default=timezone.now)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    created_at = models.DateTimeField(_("opened at"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("opened by"))
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("assigned to"))
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("submitted by"))
    certified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("certified by"))
    certified_at = models.DateTimeField(_("certified at"), null=True, blank=True)
    # Four eyes for a council with a single officer: the second certifier it named for this dossier (another
    # of its officers who may certify, or its provincial office's certifier), ``dossiers.transitions``.
    second_certifier = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                         related_name="+", verbose_name=_("second certifier"))
    # The provincial office (its prefecture or province) the commune delegated the dossier to, since when:
    # locked for the commune until the office returns it.
    delegated_to = models.ForeignKey(Collectivity, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("delegated to"))
    delegated_at = models.DateTimeField(_("delegated at"), null=True, blank=True)
    cmr_reference = models.CharField(_("CMR reference"), max_length=64, blank=True, db_index=True)
    round = models.PositiveSmallIntegerField(_("round"), default=1,
                                             help_text=_("1 for the first sending, then one more per supplement."))
    # What the CMR reported: the liquidation's outcome, or why it rejected the dossier.
    pension_number = models.CharField(_("pension number"), max_length=40, blank=True)
    monthly_pension = models.DecimalField(_("monthly amount (DH)"), max_digits=11, decimal_places=2, null=True,
                                          blank=True)
    pension_effective_on = models.DateField(_("effective from"), null=True, blank=True)
    rejection_reason = models.TextField(_("reason of the rejection"), blank=True)

    class Meta:
        verbose_name = _("dossier")
        verbose_name_plural = _("dossiers")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["collectivity", "state"]),
            models.Index(fields=["state", "state_changed_at"]),
            # the lists' orders, read in index order to keep a page of 25 (not sorted out of 100,000): the
            # CMR queue by waiting time, a collectivity's portfolio by due date
            models.Index(fields=["state_changed_at", "id"], name="dossier_waiting"),
            # (PostgreSQL puts NULLs last in an ascending index, as the portfolio's order asks)
            models.Index(fields=["collectivity", "due_date", "state_changed_at", "id"], name="dossier_portfolio"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["affiliate", "kind"], condition=~Q(state__in=sorted(s.value for s in CLOSED)),
                name="one_open_dossier_per_kind",
            ),
        ]

    def __str__(self):  # an identifier, the same in every language (audit trail, admin headings)
        return self.short_reference

    @property
    def short_reference(self):
        return str(self.reference)[:8].upper()

    @property
    def is_closed(self):
        return self.state in CLOSED


def document_path(instance, filename):
    """Unguessable storage names: the original name is kept in the database only."""
    return f"dossiers/{instance.dossier.reference}/{uuid.uuid4().hex}.pdf"


class Document(models.Model):
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="documents")
    item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT, related_name="+", verbose_name=_("item"))
    member = models.ForeignKey("affiliates.FamilyMember", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", verbose_name=_("family member"))
    file = models.FileField(_("file"), upload_to=document_path)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    round = models.PositiveSmallIntegerField(default=1)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    # The verifier's report (signatures.services.verify_pdf) as it was when the file was accepted.
    verdict = models.CharField(_("verdict"), max_length=32)
    report = models.JSONField(default=dict)
    signer = models.CharField(_("signer"), max_length=255, blank=True)
    signer_serial_number = models.CharField(max_length=64, blank=True)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    pades_level = models.CharField(max_length=8, blank=True)
    # The officer whose signature made the file acceptable, and, for a provincial office signing for
    # a commune, that commune.
    signer_account = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+", verbose_name=_("signing officer"))
    signed_on_behalf_of = models.ForeignKey("accounts.Collectivity", null=True, blank=True,
                                            on_delete=models.PROTECT, related_name="+",
                                            verbose_name=_("signed on behalf of"))

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["item__order", "uploaded_at"]
        constraints = [models.UniqueConstraint(fields=["dossier", "sha256"], name="one_copy_of_a_file_per_dossier")]

    def __str__(self):
        return self.original_name


class Event(models.Model):
    """The timeline: every transition, upload, observation and CMR stage, with who and when."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_repr = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=40)
    from_state = models.CharField(max_length=32, blank=True)
    to_state = models.CharField(max_length=32, blank=True)
    text = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    on_behalf_of = models.ForeignKey(Collectivity, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    cmr_event_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline")
        ordering = ["at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["cmr_event_id"], condition=~Q(cmr_event_id=""),
                                    name="cmr_event_applied_once"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"


class DocumentRequest(models.Model):
    """The CMR asks for documents: items of the checklist plus free text."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="document_requests")
    items = models.ManyToManyField(ChecklistItem, blank=True, related_name="+")
    text = models.TextField(blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    round = models.PositiveSmallIntegerField()
    fulfilled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self):
        return f"{self.dossier_id} {self.requested_at:%Y-%m-%d}"


class Certification(models.Model):
    """One certification of one round: who, when, and the sealed transmittal slip (bordereau)."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="certifications")
    round = models.PositiveSmallIntegerField()
    certified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    certified_at = models.DateTimeField(default=timezone.now)
    manifest = models.JSONField(default=dict)
    slip = models.FileField(upload_to="slips/%Y/%m/", blank=True)
    slip_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dossier", "round"], name="one_certification_per_round")]

    def __str__(self):
        return f"{self.dossier_id} #{self.round}"


class PendingCertification(models.Model):
    """A transmittal slip issued to be signed (``CERTIFICATION_SIGNED_BY_TOKEN``): the certifier downloads
    it, signs it with his token and uploads it; the dossier is certified with that signed copy. One per
    round: asking again replaces it. The documents it lists (their digests) must still be the round's."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="pending_certifications")
    round = models.PositiveSmallIntegerField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    slip = models.FileField(upload_to="slips/pending/%Y/%m/")
    slip_sha256 = models.CharField(max_length=64)
    documents = models.JSONField(default=list)  # the SHA-256 of each document the slip lists

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dossier", "round"], name="one_pending_certification_per_round")]

    def __str__(self):
        return f"{self.dossier_id} #{self.round} (to sign)"
