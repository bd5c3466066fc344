"""The support's forms. They only collect (the template writes the inputs): every check, and its
message, is the service's."""

from django import forms
from django.utils.translation import gettext_lazy as _


class RequestForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), required=False, strip=False)
    message = forms.CharField(label=_("Your question"), required=False, strip=False, widget=forms.Textarea)
    page = forms.CharField(required=False, widget=forms.HiddenInput)
    dossier = forms.CharField(required=False, widget=forms.HiddenInput)


class AnswerForm(forms.Form):
    answer = forms.CharField(label=_("Answer"), required=False, strip=False, widget=forms.Textarea)
