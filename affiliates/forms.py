from django import forms
from django.utils.translation import gettext_lazy as _

from .services import CORRECTABLE_FIELDS


class CorrectionForm(forms.Form):
    field = forms.ChoiceField(label=_("Field to correct"))
    proposed_value = forms.CharField(label=_("Correct value"), max_length=200)
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
    document = forms.FileField(
        label=_("Supporting document (PDF)"),
        help_text=_("Signed electronically by an officer of the collectivity, like a dossier's documents."),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = [("", "—")] + [
            (k, v[0]) for k, v in CORRECTABLE_FIELDS.items()
        ]
        for name, field in self.fields.items():
            css = "form-select" if name == "field" else "form-control"
            field.widget.attrs["class"] = css


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", _("Accept")), ("refuse", _("Refuse"))])
    reason = forms.CharField(
        label=_("Reason (required to refuse)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )
