"""The CMR affiliate registry mirrored by the portal: affiliates, service periods, salaries, family.

Identifiers are stored in their canonical form (see ``affiliates.identifiers``): digits without
leading zeros for the affiliation number and the PPR, upper-case letters then digits for the CIN.
Names are also stored folded (no accents, no Arabic diacritics, lower case) for the search; on
PostgreSQL those columns carry pg_trgm GIN indexes, and service periods of one affiliate cannot
overlap (an exclusion constraint), both created by migration 0002 on PostgreSQL only.
"""

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.models import Collectivity

from . import rules


class Sex(models.TextChoices):
    MALE = rules.MALE, _("male")
    FEMALE = rules.FEMALE, _("female")


class Affiliate(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        RETIRED = "retired", _("retired")
        DECEASED = "deceased", _("deceased")
        LEFT = "left", _("left the service")

    affiliation_number = models.CharField(_("affiliation number"), max_length=12, unique=True)
    ppr = models.CharField(_("payroll number (PPR)"), max_length=10, unique=True)
    cin = models.CharField(_("CIN"), max_length=8, unique=True)
    last_name_fr = models.CharField(_("last name (French)"), max_length=80)
    first_name_fr = models.CharField(_("first name (French)"), max_length=80)
    last_name_ar = models.CharField(_("last name (Arabic)"), max_length=80)
    first_name_ar = models.CharField(_("first name (Arabic)"), max_length=80)
    # Folded copies of the names for the search, kept up to date by ``save()`` and the services.
    search_fr = models.CharField(max_length=170, editable=False, default="")
    search_ar = models.CharField(max_length=170, editable=False, default="")
    search_keys = models.TextField(editable=False, default="")  # see identifiers.name_keys
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"))
    recruitment_date = models.DateField(_("recruitment date"))
    tenure_date = models.DateField(_("tenure date"), null=True, blank=True)
    grade = models.CharField(_("grade"), max_length=120)
    scale = models.PositiveSmallIntegerField(_("scale"))
    step = models.PositiveSmallIntegerField(_("step"))
    collectivity = models.ForeignKey(
        Collectivity,
        verbose_name=_("employer"),
        on_delete=models.PROTECT,
        related_name="affiliates",
        db_index=False,  # the (collectivity, birth_date) index below serves it
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    research_professor = models.BooleanField(_("research professor (age limit 65)"), default=False)
    age_limit_extended_until = models.DateField(
        _("age limit extended until"),
        null=True,
        blank=True,
        help_text=_("An individual extension decided on request; entered as data, not computed."),
    )
    service_ended_on = models.DateField(
        _("end of service (death, leaving, retirement)"),
        null=True,
        blank=True,
        help_text=_("The last day of service. Nothing is counted after it; empty while in activity."),
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("affiliate")
        verbose_name_plural = _("affiliates")
        indexes = [models.Index(fields=["collectivity", "birth_date"], name="affiliate_coll_birth")]
        constraints = [
            models.CheckConstraint(
                condition=Q(recruitment_date__gt=F("birth_date")),
                name="affiliate_recruited_after_birth",
            ),
        ]

    def __str__(self):
        return f"{self.full_name} ({self.affiliation_number})"

    def save(self, *args, **kwargs):
        self.refresh_search_fields()
        super().save(*args, **kwargs)

    def refresh_search_fields(self):
        from .identifiers import fold, name_keys

        self.search_fr = fold(f"{self.last_name_fr} {self.first_name_fr}")
        self.search_ar = fold(f"{self.last_name_ar} {self.first_name_ar}")
        self.search_keys = name_keys(self.search_fr, self.search_ar)

    @property
    def full_name_fr(self):
        return f"{self.last_name_fr} {self.first_name_fr}"

    @property
    def full_name_ar(self):
        return f"{self.last_name_ar} {self.first_name_ar}"

    @property
    def full_name(self):
        return self.full_name_ar if (get_language() or "").startswith("ar") else self.full_name_fr


class ServicePeriod(models.Model):
    class Kind(models.TextChoices):
        EFFECTIVE = rules.EFFECTIVE, _("effective service")
        SECONDMENT = rules.SECONDMENT, _("secondment")
        BOUGHT_BACK = rules.BOUGHT_BACK, _("bought back (validated)")
        UNPAID_LEAVE = rules.UNPAID_LEAVE, _("unpaid leave")
        DISPONIBILITE = rules.DISPONIBILITE, _("disponibilité")
        SUSPENSION = rules.SUSPENSION, _("suspension")

    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="periods")
    start = models.DateField(_("from"))
    end = models.DateField(_("to"), null=True, blank=True, help_text=_("Empty while it runs."))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)

    class Meta:
        verbose_name = _("service period")
        verbose_name_plural = _("service periods")
        ordering = ["affiliate", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=F("start")),
                name="service_period_end_after_start",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.start} – {self.end or '…'}"

    def as_rule(self) -> rules.Period:
        return rules.Period(self.start, self.end, self.kind)


class SalaryRecord(models.Model):
    affiliate = models.ForeignKey(
        Affiliate, on_delete=models.CASCADE, related_name="salaries", db_index=False
    )
    start = models.DateField(_("from"))
    monthly_salary = models.DecimalField(
        _("monthly salary subject to contribution (DH)"), max_digits=10, decimal_places=2
    )
    scale = models.PositiveSmallIntegerField(_("scale"))
    step = models.PositiveSmallIntegerField(_("step"))

    class Meta:
        verbose_name = _("salary record")
        verbose_name_plural = _("salary history")
        ordering = ["affiliate", "start"]
        constraints = [
            models.UniqueConstraint(fields=["affiliate", "start"], name="salary_one_per_date"),
            models.CheckConstraint(condition=Q(monthly_salary__gt=0), name="salary_positive"),
        ]

    def __str__(self):
        return f"{self.start}: {self.monthly_salary}"

    def as_rule(self) -> rules.Salary:
        return rules.Salary(self.start, self.monthly_salary)


class FamilyMember(models.Model):
    class Relation(models.TextChoices):
        SPOUSE = "spouse", _("spouse")
        CHILD = "child", _("child")

    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="family")
    relation = models.CharField(_("relation"), max_length=8, choices=Relation.choices)
    full_name_fr = models.CharField(_("name (French)"), max_length=160)
    full_name_ar = models.CharField(_("name (Arabic)"), max_length=160)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"))
    event_date = models.DateField(_("marriage date"), null=True, blank=True)

    class Meta:
        verbose_name = _("family member")
        verbose_name_plural = _("family")
        ordering = ["affiliate", "relation", "birth_date"]

    def __str__(self):
        return f"{self.get_relation_display()}: {self.full_name_fr}"

    @property
    def full_name(self):
        return self.full_name_ar if (get_language() or "").startswith("ar") else self.full_name_fr


def _field_label(field):
    try:
        return Affiliate._meta.get_field(field).verbose_name
    except FieldDoesNotExist:  # a field removed since: show its name
        return field


class CorrectionRequest(models.Model):
    """An officer asks the CMR to correct one field of an affiliate, with a supporting PDF."""

    class Status(models.TextChoices):
        PENDING = "pending", _("awaiting the CMR")
        ACCEPTED = "accepted", _("accepted")
        REFUSED = "refused", _("refused")

    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="corrections")
    field = models.CharField(_("field"), max_length=32)
    current_value = models.CharField(_("value in the registry"), max_length=200, blank=True)
    proposed_value = models.CharField(_("proposed value"), max_length=200)
    reason = models.TextField(_("reason"), max_length=2000)
    document = models.FileField(_("supporting document (PDF)"), upload_to="corrections/%Y/%m/")
    document_name = models.CharField(_("file name"), max_length=200)
    document_sha256 = models.CharField(max_length=64)
    document_size = models.PositiveIntegerField()
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    on_behalf_of = models.ForeignKey(
        Collectivity,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("on behalf of"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("decision reason"), max_length=2000, blank=True)

    class Meta:
        verbose_name = _("correction request")
        verbose_name_plural = _("correction requests")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["affiliate", "field"],
                condition=Q(status="pending"),
                name="one_pending_correction_per_field",
            ),
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True)
                | Q(status__in=["accepted", "refused"], decided_at__isnull=False),
                name="correction_decided_when_closed",
            ),
            models.CheckConstraint(
                condition=~Q(status="refused") | ~Q(decision_reason=""),
                name="correction_refusal_has_reason",
            ),
        ]

    def __str__(self):
        return f"{self.affiliate_id} {self.field}: {self.proposed_value} ({self.status})"

    @property
    def field_label(self):
        return _field_label(self.field)


class FieldChange(models.Model):
    """The registry's history: every change of a field keeps its old value."""

    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="changes")
    field = models.CharField(_("field"), max_length=32)
    old_value = models.CharField(_("old value"), max_length=200, blank=True)
    new_value = models.CharField(_("new value"), max_length=200, blank=True)
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    correction = models.ForeignKey(
        CorrectionRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes"
    )

    class Meta:
        verbose_name = _("registry change")
        verbose_name_plural = _("registry history")
        ordering = ["-changed_at", "-id"]

    def __str__(self):
        return f"{self.field}: {self.old_value} → {self.new_value}"

    @property
    def field_label(self):
        return _field_label(self.field)
