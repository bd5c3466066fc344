"""Forms of the dossier pages: parsing only; the services decide."""

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .workflow import TEXT_MAX_LENGTH, State


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class UploadForm(forms.Form):
    item = forms.CharField(widget=forms.HiddenInput)
    member = forms.IntegerField(required=False, widget=forms.HiddenInput)
    files = forms.FileField(label=_("Signed PDF files"),
                            widget=MultipleFileInput(attrs={"accept": "application/pdf", "multiple": True}))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                             max_length=TEXT_MAX_LENGTH)


class ObservationForm(forms.Form):
    text = forms.CharField(label=_("Observation"), widget=forms.Textarea(attrs={"rows": 3}), max_length=TEXT_MAX_LENGTH)


class FilterForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), required=False, choices=[("", _("all"))] + list(State.choices))
    kind = forms.CharField(label=_("Kind"), required=False)
    region = forms.IntegerField(label=_("Region"), required=False)
    collectivity = forms.CharField(label=_("Collectivity"), required=False)
    min_days = forms.IntegerField(label=_("In this state for at least (days)"), required=False, min_value=0)
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=[
        ("due", _("due date")), ("state_date", _("in this state since")), ("opened", _("opened"))])


class QueueForm(forms.Form):
    """The CMR queue's filters. Each value is checked against what the queue offers; one that is not
    is left out (``filters``) and named on the page, the others still apply."""

    DELAYS = (7, 30, 90)

    view = forms.ChoiceField(label=_("View"), required=False, choices=[
        ("to_process", _("To process")), ("waiting", _("Waiting for the collectivity")),
        ("closed", _("Closed")), ("all", _("Everything at the CMR"))])
    state = forms.ChoiceField(label=_("State"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    region = forms.TypedChoiceField(label=_("Region"), required=False, coerce=int, empty_value=None)
    province = forms.TypedChoiceField(label=_("Prefecture or province"), required=False, coerce=int,
                                      empty_value=None)
    collectivity = forms.CharField(label=_("Collectivity code"), required=False, max_length=16)
    delay = forms.TypedChoiceField(label=_("Waiting for"), required=False, coerce=int, empty_value=None)
    # Any number of days: what links written before the delay choices carry.
    min_days = forms.IntegerField(label=_("Days in the state, at least"), required=False, min_value=0,
                                  max_value=36500)
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=[
        ("waiting", _("waiting time, longest first")), ("due", _("due date")), ("opened", _("opened"))])

    def __init__(self, data, *, states, kinds, places):
        super().__init__(data)
        every = [("", _("all"))]
        self.fields["state"].choices = every + [(s.value, s.label) for s in states]
        self.fields["kind"].choices = every + [(k.code, k.label) for k in kinds]
        self.fields["region"].choices = every + [(r.pk, r.name) for r, _provinces in places]
        self.fields["province"].choices = every + [(p.pk, p.name) for _r, provinces in places for p in provinces]
        self.fields["delay"].choices = [("", _("any"))] + [
            (days, gettext("%(days)d days or more") % {"days": days}) for days in self.DELAYS]

    def filters(self) -> dict:
        """The valid filters, for ``dossiers.selectors.cmr_queue``."""
        self.is_valid()
        values = {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
        delay = values.pop("delay", None)
        if delay is not None:
            values["min_days"] = delay
        return values
