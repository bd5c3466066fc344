from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.core.validators import MaxLengthValidator, MaxValueValidator
from django.utils.translation import gettext_lazy as _

from .services import Capabilities


class CapabilitiesForm(forms.Form):
    can_consult_affiliates = forms.BooleanField(label=_("Consult affiliates"), required=False, initial=True)
    can_prepare_dossiers = forms.BooleanField(label=_("Prepare dossiers"), required=False)
    can_certify_dossiers = forms.BooleanField(label=_("Certify dossiers"), required=False)
    position = forms.CharField(label=_("Position"), max_length=150, required=False)

    def capabilities(self) -> Capabilities:
        d = self.cleaned_data
        return Capabilities(
            consult_affiliates=d["can_consult_affiliates"],
            prepare_dossiers=d["can_prepare_dossiers"],
            certify_dossiers=d["can_certify_dossiers"],
        )


class SubaccountForm(CapabilitiesForm):
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    cin = forms.CharField(label=_("CIN"), max_length=20, help_text=_("e.g. AB123456; it will be the login."))
    email = forms.CharField(label=_("E-mail"), max_length=254,
                            help_text=_("The activation link is sent to this address."))
    phone_mobile = forms.CharField(label=_("Mobile"), max_length=20, required=False)

    field_order = ["full_name", "cin", "email", "phone_mobile", "position", "can_consult_affiliates",
                   "can_prepare_dossiers", "can_certify_dossiers"]


class ActivationForm(forms.Form):
    password1 = forms.CharField(label=_("New password"),
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                help_text=password_validators_help_text_html)
    password2 = forms.CharField(label=_("Confirm the password"),
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            raise forms.ValidationError(_("The two passwords differ."))
        return data


class DesignationUploadForm(forms.Form):
    file = forms.FileField(label=_("Designation spreadsheet (.xlsx)"))


class LoginForm(AuthenticationForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Django sets the field's max_length after building it, so nothing enforces it: a login longer
        # than any account's would reach authentication (and the lockout's records) unchecked.
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(username.max_length))

    def confirm_login_allowed(self, user):
        if user.is_active:
            return
        if user.locked_for_inactivity_at:
            raise forms.ValidationError(
                _("This account was locked after %(days)d days without use. Ask your collectivity's manager "
                  "(or the DGCT) to unlock it.") % {"days": settings.ACCOUNT_INACTIVITY_DAYS}, code="inactive")
        raise forms.ValidationError(_("This account is disabled. Contact your collectivity's manager or the DGCT."),
                                    code="inactive")

    def get_invalid_login_error(self):
        return forms.ValidationError(
            _("Wrong login or password. The login is your CIN (e.g. AB123456); the password is case-sensitive."),
            code="invalid_login",
        )


class SecondFactorForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=20, help_text=_(
        "The six digits your application shows now, or one of your recovery codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True,
                                      "class": "form-control ltr", "dir": "ltr"}))
    trust = forms.BooleanField(required=False, help_text=_("Only on a computer of your office that nobody else uses."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["trust"].label = _("Trust this browser for %(days)d days") % {
            "days": settings.SECOND_FACTOR_TRUST_DAYS}


class EnrolmentForm(forms.Form):
    code = forms.CharField(label=_("Code shown by the application"), max_length=20,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                                         "class": "form-control ltr", "dir": "ltr"}))


class PasswordResetRequestForm(forms.Form):
    identifier = forms.CharField(label=_("Your login (CIN) or e-mail address"), max_length=254,
                                 widget=forms.TextInput(attrs={"class": "form-control ltr", "dir": "ltr",
                                                               "autocomplete": "username"}))


class ApiTokenForm(forms.Form):
    """A new API token: its name, read only or read and write, its collectivity, its validity."""

    name = forms.CharField(label=_("Name"), max_length=100, help_text=_(
        "The application that will use it, e.g. \"HR software of the commune\"."))
    scope = forms.ChoiceField(label=_("Access"), widget=forms.RadioSelect, initial="read", choices=[
        ("read", _("Read only")), ("read_write", _("Read and write (open, fill and submit dossiers)"))])
    collectivity = forms.ModelChoiceField(label=_("Collectivity"), queryset=None, required=False,
                                          empty_label=_("All the collectivities I see"))
    days = forms.IntegerField(label=_("Valid for (days)"), min_value=1)

    def __init__(self, *args, user, **kwargs):
        from . import api_tokens

        super().__init__(*args, **kwargs)
        self.fields["days"].max_value = settings.API_TOKEN_VALID_DAYS
        self.fields["days"].validators.append(MaxValueValidator(settings.API_TOKEN_VALID_DAYS))
        self.fields["days"].initial = settings.API_TOKEN_VALID_DAYS
        if api_tokens.must_name_a_collectivity(user):
            del self.fields["collectivity"]  # his own, always
        else:
            self.fields["collectivity"].queryset = api_tokens.collectivity_choices(user)
