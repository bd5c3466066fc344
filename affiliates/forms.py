from dataclasses import dataclass

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from .models import (
    RECORD_MODELS,
    SALARY,
    SERVICE_PERIOD,
    Affiliate,
    ServicePeriod,
    record_values,
    shown_part,
    shown_value,
)
from .services import CORRECTABLE_FIELDS, DATE_FIELDS, SALARY_MAX, SALARY_MIN, record_text

# What a date field reads: the date picker's value (ISO), or a date typed day first, as written here
# (never the month first that Django's default formats would read in Arabic).
DATE_INPUT_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")
NEW = "new"


class DatePicker(forms.DateInput):
    """``<input type="date">``: the browser shows its calendar and writes the date as the reader's
    locale does; the value sent is ISO."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def date_field(label, *, required=True, help_text=""):
    return forms.DateField(
        label=label, required=required, help_text=help_text, input_formats=DATE_INPUT_FORMATS,
        widget=DatePicker(),
        error_messages={
            "required": _("The date is missing."),
            "invalid": _("This is not a date: choose it in the calendar, or type it as day/month/year."),
        },
    )


def _choices(choices):
    return [("", "—")] + [(value, capfirst(label)) for value, label in choices]


@dataclass
class Target:
    """What a correction is about: a field of the affiliate, or one of his service periods or salary
    records (``record`` the one changed; None, with ``field`` a record kind, for a missing one)."""

    field: str
    record: object = None

    @property
    def is_record(self):
        return self.field in RECORD_MODELS

    @property
    def record_id(self):
        return self.record.pk if self.record is not None else None

    @property
    def value(self):
        if not self.is_record:
            return self.field
        return f"{self.field}:{self.record.pk if self.record is not None else NEW}"

    def current_text(self, affiliate) -> str:
        if self.is_record:
            return record_text(self.field, self.record) if self.record is not None else ""
        value = getattr(affiliate, self.field)
        if value is None:
            return ""
        return value.isoformat() if hasattr(value, "isoformat") else str(value)

    @property
    def title(self):
        if self.field == SERVICE_PERIOD:
            return _("Correct a service period") if self.record is not None else _("Add a missing service period")
        if self.field == SALARY:
            return _("Correct a salary record") if self.record is not None else _("Add a missing salary record")
        return capfirst(CORRECTABLE_FIELDS[self.field][0])


def parse_target(raw) -> tuple[str, str | None] | None:
    """``"birth_date"``, ``"service_period:12"``, ``"salary:new"`` → (field, record id or "new" or
    None); None for anything else."""
    raw = str(raw or "").strip()
    field, _sep, record = raw.partition(":")
    if field in CORRECTABLE_FIELDS and not record:
        return field, None
    if field in RECORD_MODELS and (record == NEW or (record.isdigit() and len(record) < 19)):
        return field, record
    return None


class TargetForm(forms.Form):
    """The choice of what to correct (a GET form above the correction form)."""

    target = forms.ChoiceField(label=_("What to correct"))

    def __init__(self, *args, affiliate, periods, salaries, **kwargs):
        super().__init__(*args, **kwargs)
        fields = []
        for name, (label, _clean) in CORRECTABLE_FIELDS.items():
            current = Target(name).current_text(affiliate)
            fields.append((name, f"{capfirst(label)} — {shown_value(name, current) or '—'}"))
        self.fields["target"].choices = [
            ("", "—"),
            (_("Identity and career"), fields),
            (_("Service periods"), [
                (f"{SERVICE_PERIOD}:{p.pk}", capfirst(shown_value(SERVICE_PERIOD, record_text(SERVICE_PERIOD, p))))
                for p in periods] + [(f"{SERVICE_PERIOD}:{NEW}", _("A missing service period"))]),
            (_("Salary history"), [
                (f"{SALARY}:{s.pk}", shown_value(SALARY, record_text(SALARY, s))) for s in salaries]
                + [(f"{SALARY}:{NEW}", _("A missing salary record"))]),
        ]
        self.fields["target"].widget.attrs.update({"class": "form-select", "data-autosubmit": "1"})


class CorrectionForm(forms.Form):
    """The proposed values of one target, each input of its kind (a date picker for a date, a list for
    a code) with the registry's value beside it, and the reason and the supporting PDF. The service
    checks everything again (the API sends the same values)."""

    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
    document = forms.FileField(
        label=_("Supporting document (PDF)"),
        help_text=_("Signed electronically by an officer of the collectivity, like a dossier's documents."),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )
    kept = forms.CharField(required=False, widget=forms.HiddenInput)  # the service reads only its own tokens

    def __init__(self, *args, affiliate, target: Target, kept_document=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.affiliate, self.target, self.kept_document = affiliate, target, kept_document
        common = {name: self.fields.pop(name) for name in ("reason", "document", "kept")}
        current = target.current_text(affiliate)
        if target.field == SERVICE_PERIOD:
            self.fields["start"] = date_field(_("From"))
            self.fields["end"] = date_field(_("To"), required=False, help_text=_("Empty while it runs."))
            self.fields["kind"] = forms.ChoiceField(label=_("Kind"), choices=_choices(ServicePeriod.Kind.choices))
        elif target.field == SALARY:
            self.fields["start"] = date_field(_("From"))
            self.fields["monthly_salary"] = forms.CharField(
                label=_("Monthly salary subject to contribution (DH)"), max_length=20,
                widget=forms.NumberInput(attrs={"step": "0.01", "min": str(SALARY_MIN), "max": str(SALARY_MAX)}))
            self.fields["scale"] = forms.IntegerField(label=_("Scale"), widget=forms.NumberInput(
                attrs={"min": 1, "max": 12}))
            self.fields["step"] = forms.IntegerField(label=_("Step"), widget=forms.NumberInput(
                attrs={"min": 1, "max": 15}))
        else:
            self.fields["proposed_value"] = self._value_field(target.field)
        # Each input shows the registry's value beside it, and starts from it.
        if target.is_record:
            values = record_values(target.field, current) or {}
            if target.field == SALARY and not values:  # a missing record: the affiliate's grade today
                self.fields["scale"].initial, self.fields["step"].initial = affiliate.scale, affiliate.step
            for name, field in self.fields.items():
                field.current = shown_part(target.field, name, values.get(name)) if values else ""
                if values.get(name) is not None:
                    field.initial = values[name]
        else:
            field = self.fields["proposed_value"]
            field.current = shown_value(target.field, current)
            field.initial = current or None
        self.value_names = list(self.fields)
        self.fields.update(common)
        if kept_document is not None:
            self.fields["document"].help_text = ""
        for field in self.fields.values():
            if isinstance(field.widget, forms.HiddenInput):
                continue
            field.widget.attrs["class"] = "form-select" if isinstance(field, forms.ChoiceField) else "form-control"

    @staticmethod
    def _value_field(name):
        label = _("Correct value")
        model_field = Affiliate._meta.get_field(name)
        if name in DATE_FIELDS:
            return date_field(label)
        if model_field.choices:
            return forms.ChoiceField(label=label, choices=_choices(model_field.choices))
        if name in ("scale", "step"):
            high = 12 if name == "scale" else 15
            return forms.IntegerField(label=label, widget=forms.NumberInput(attrs={"min": 1, "max": high}))
        return forms.CharField(label=label, max_length=200)  # the service says what is too long

    def value_fields(self):
        return [self[name] for name in self.value_names]

    def proposed(self):
        """The proposed value for the service: the canonical text of a field, the values of a record."""
        def text(value):
            if value is None:
                return None
            return value.isoformat() if hasattr(value, "isoformat") else str(value).strip()

        d = self.cleaned_data
        if self.target.is_record:
            return {name: text(d.get(name)) for name in self.value_names}
        return text(d["proposed_value"]) or ""

    def keep(self, token, kept_document):
        """Show the next attempt with the document kept under ``token`` (or none)."""
        self.kept_document = kept_document
        self.data = self.data.copy()
        self.data["kept"] = token or ""


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", _("Accept")), ("refuse", _("Refuse"))])
    reason = forms.CharField(
        label=_("Reason (required to refuse)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )
