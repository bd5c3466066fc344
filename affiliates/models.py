"""The CMR affiliate registry mirrored by the portal: affiliates, service periods, salaries, family.

Identifiers are stored in their canonical form (see ``affiliates.identifiers``): digits without
leading zeros for the affiliation number and the PPR, upper-case letters then digits for the CIN.
Names are also stored folded (no accents, no Arabic diacritics, lower case) for the search; on
PostgreSQL those columns carry pg_trgm GIN indexes, and service periods of one affiliate cannot
overlap (an exclusion constraint), both created by migration 0002 on PostgreSQL only.
"""

import json
from datetime import date

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext, pgettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Collectivity
from eretraite.formatting import amount

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
    search_words = models.TextField(editable=False, default="")  # see identifiers.search_words
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
        NameWord.register(self.search_words.split())

    def refresh_search_fields(self):
        from .identifiers import fold, search_words

        self.search_fr = fold(f"{self.last_name_fr} {self.first_name_fr}")
        self.search_ar = fold(f"{self.last_name_ar} {self.first_name_ar}")
        self.search_words = " ".join(search_words(self.search_fr, self.search_ar))

    @property
    def grade_shown(self) -> str:
        """The grade in the reader's language where the nomenclature knows it."""
        from .nomenclature import grade_label

        return grade_label(self.grade)[0]

    @property
    def grade_language(self) -> str:
        from .nomenclature import grade_label

        return grade_label(self.grade)[1]

    @property
    def full_name_fr(self):
        return f"{self.last_name_fr} {self.first_name_fr}"

    @property
    def full_name_ar(self):
        return f"{self.last_name_ar} {self.first_name_ar}"

    @property
    def full_name(self):
        return self.full_name_ar if (get_language() or "").startswith("ar") else self.full_name_fr


class NameWord(models.Model):
    """The search's lexicon: every form of the registry's names (``identifiers.name_forms``), once,
    with the keys that meet its misspellings (``NameKey``, ``identifiers.form_keys``). A query word
    is matched here first (some thousands of rows), then the people by their forms. A form nobody
    bears any more stays: it finds nobody."""

    form = models.CharField(max_length=200, primary_key=True)

    class Meta:
        verbose_name = _("name form")
        verbose_name_plural = _("name forms")

    def __str__(self):
        return self.form

    @classmethod
    def register(cls, forms) -> None:
        """Add the forms the lexicon does not hold yet, with their keys (one query when it holds them
        all, as it nearly always does)."""
        from .identifiers import PAIR, form_keys

        forms = {f for f in forms if PAIR not in f}  # a person's pairs are not words
        if not forms:
            return
        new = sorted(forms - set(cls.objects.filter(form__in=forms).values_list("form", flat=True)))
        if not new:
            return
        cls.objects.bulk_create([cls(form=f) for f in new], ignore_conflicts=True, batch_size=2000)
        NameKey.objects.bulk_create(
            [NameKey(key=k, form_id=f) for f in new for k in form_keys(f)], ignore_conflicts=True, batch_size=5000
        )


class NameKey(models.Model):
    """One key of a lexicon form: ``key`` meets the query words whose own keys hold it."""

    key = models.CharField(max_length=200)
    form = models.ForeignKey(NameWord, on_delete=models.CASCADE, related_name="keys", db_index=False)

    class Meta:
        verbose_name = _("name key")
        verbose_name_plural = _("name keys")
        constraints = [models.UniqueConstraint(fields=["key", "form"], name="name_key_once")]

    def __str__(self):
        return self.key


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
    def kinship(self) -> str:
        """The relation as the reader's language says it of this person: a daughter, a son, a wife,
        a husband (Arabic and French agree the word with the sex)."""
        words = {
            (self.Relation.CHILD, Sex.FEMALE): pgettext("kinship", "daughter"),
            (self.Relation.CHILD, Sex.MALE): pgettext("kinship", "son"),
            (self.Relation.SPOUSE, Sex.FEMALE): pgettext("kinship", "wife"),
            (self.Relation.SPOUSE, Sex.MALE): pgettext("kinship", "husband"),
        }
        return str(words.get((self.relation, self.sex)) or self.get_relation_display())

    @property
    def full_name(self):
        return self.full_name_ar if (get_language() or "").startswith("ar") else self.full_name_fr


# What a correction may name besides a field of the affiliate: one of his registry records (a
# change of an existing one, or a missing one). Its values are stored as canonical JSON text.
SERVICE_PERIOD = "service_period"
SALARY = "salary"
RECORD_MODELS = {SERVICE_PERIOD: ServicePeriod, SALARY: SalaryRecord}


def _field_label(field):
    if field in RECORD_MODELS:
        return RECORD_MODELS[field]._meta.verbose_name
    try:
        return Affiliate._meta.get_field(field).verbose_name
    except FieldDoesNotExist:  # a field removed since: show its name
        return field


def record_values(field, text) -> dict | None:
    """The values of a record correction (canonical JSON text), or None if it is not one."""
    if field not in RECORD_MODELS or not text:
        return None
    try:
        values = json.loads(text)
    except ValueError:
        return None
    return values if isinstance(values, dict) else None


def _shown_date(text):
    try:
        return date_format(date.fromisoformat(str(text)))
    except ValueError:
        return str(text)


def shown_amount(value) -> str:
    return amount(value)


def shown_part(field, key, value) -> str:
    """One value of a record correction as the reader's language writes it."""
    if value in (None, ""):
        return gettext("running") if key == "end" else "—"
    if key in ("start", "end"):
        return _shown_date(value)
    if key == "kind":
        try:
            return str(capfirst(ServicePeriod.Kind(value).label))
        except ValueError:
            return str(value)
    if key == "monthly_salary":
        return shown_amount(value)
    return str(value)


def shown_value(field, text) -> str:
    """A value of the registry as stored by a correction (canonical text: ISO dates, codes, JSON for
    a record), written as the reader's language writes it: dates in words, labels for codes."""
    if not text:
        return ""
    values = record_values(field, text)
    if values is not None:
        parts = {key: shown_part(field, key, value) for key, value in values.items()}
        if field == SERVICE_PERIOD:
            if values.get("end"):
                return gettext("%(kind)s from %(start)s to %(end)s") % parts
            return gettext("%(kind)s from %(start)s, running") % parts
        return gettext("%(amount)s a month from %(start)s (scale %(scale)s, step %(step)s)") % {
            "amount": parts.get("monthly_salary", "—"), "start": parts.get("start", "—"),
            "scale": parts.get("scale", "—"), "step": parts.get("step", "—")}
    try:
        model_field = Affiliate._meta.get_field(field)
    except FieldDoesNotExist:
        return text
    if isinstance(model_field, models.DateField):
        return _shown_date(text)
    if model_field.choices:
        return str(capfirst(dict(model_field.choices).get(text, text)))
    if field == "grade":  # a label of the nomenclature, in the reader's language where known
        from .nomenclature import grade_label

        return grade_label(text)[0]
    return text


class CorrectionRequest(models.Model):
    """An officer asks the CMR to correct one field of an affiliate, or one of his service periods or
    salary records (``field`` is then ``service_period`` or ``salary``, ``record_id`` the record, empty
    for a missing one, and the values canonical JSON text), with a supporting PDF."""

    class Status(models.TextChoices):
        PENDING = "pending", _("awaiting the CMR")
        ACCEPTED = "accepted", _("accepted")
        REFUSED = "refused", _("refused")

    affiliate = models.ForeignKey(Affiliate, verbose_name=_("affiliate"), on_delete=models.CASCADE,
                                  related_name="corrections")
    field = models.CharField(_("field"), max_length=32)
    record_id = models.PositiveBigIntegerField(
        _("record"), null=True, blank=True,
        help_text=_("The service period or salary record corrected; empty for a missing one."))
    current_value = models.CharField(_("value in the registry"), max_length=200, blank=True)
    proposed_value = models.CharField(_("proposed value"), max_length=200)
    reason = models.TextField(_("reason"), max_length=2000)
    document = models.FileField(_("supporting document (PDF)"), upload_to="corrections/%Y/%m/")
    document_name = models.CharField(_("file name"), max_length=200)
    document_sha256 = models.CharField(_("SHA-256 of the document"), max_length=64)
    document_size = models.PositiveIntegerField(_("size of the document (bytes)"))
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
                condition=Q(status="pending") & ~Q(field__in=list(RECORD_MODELS)),
                name="one_pending_correction_per_field",
            ),
            models.UniqueConstraint(
                fields=["field", "record_id"],
                condition=Q(status="pending", record_id__isnull=False),
                name="one_pending_correction_per_record",
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

    def __str__(self):  # an identifier, the same in every language (audit trail, admin headings)
        return f"#{self.pk}"

    @property
    def field_label(self):
        return _field_label(self.field)

    @property
    def is_addition(self):
        """A missing service period or salary record proposed."""
        return self.field in RECORD_MODELS and not self.current_value

    @property
    def current_shown(self):
        return shown_value(self.field, self.current_value)

    @property
    def proposed_shown(self):
        return shown_value(self.field, self.proposed_value)


class FieldChange(models.Model):
    """The registry's history: every change of a field keeps its old value."""

    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="changes")
    field = models.CharField(_("field"), max_length=32)
    record_id = models.PositiveBigIntegerField(_("record"), null=True, blank=True)
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

    @property
    def old_shown(self):
        return shown_value(self.field, self.old_value)

    @property
    def new_shown(self):
        return shown_value(self.field, self.new_value)


class KeptDocument(models.Model):
    """A supporting PDF kept between two attempts of the correction form, so that an officer whose
    request was refused for another field does not choose the file again. Reached only by its
    account, for its affiliate, with the token the form carries in a hidden field (stored hashed);
    removed when the request is made, and by the hourly purge after
    ``CORRECTION_KEPT_DOCUMENT_HOURS``. Never served."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    document = models.FileField(upload_to="corrections/kept/%Y/%m/")
    name = models.CharField(max_length=200)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("document kept for a correction request")
        verbose_name_plural = _("documents kept for correction requests")

    def __str__(self):
        return self.name
