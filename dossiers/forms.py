"""Forms of the dossier pages: parsing only; the services decide."""

from django import forms
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
