"""Pure rules about identities and contact data: normalise, then validate. No ORM, no I/O.

Each validator returns the normalised value or raises ``InvalidValue`` with a translatable message
that tells the officer what the expected form is.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_noop as _

from eretraite.i18n import Deferred


class InvalidValue(ValueError):
    """A value refused, with its message kept deferred (``eretraite.i18n.Deferred``): ``message`` is it
    in the active language, ``deferred`` the same to store and show later in the reader's."""

    def __init__(self, msgid, params=None):
        self.deferred = Deferred(msgid, params)
        super().__init__(str(self.deferred))

    @property
    def message(self) -> str:
        return str(self.deferred)


_SPACES = re.compile(r"[\s\u00a0\u200f\u200e._/-]+")
# Moroccan national identity card: one or two letters, then digits (e.g. A123456, BK654321).
_CIN = re.compile(r"^[A-Z]{1,2}[0-9]{1,6}$")
# Payroll number (PPR, numéro de rémunération): digits only.
_PPR = re.compile(r"^[0-9]{5,10}$")
_EASTERN_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).translate(_EASTERN_DIGITS).strip()


def normalize_cin(value) -> str:
    """Upper-case, with spaces and separators removed: ' ab 123456 ' -> 'AB123456'."""
    return _SPACES.sub("", _text(value)).upper()


def clean_cin(value) -> str:
    cin = normalize_cin(value)
    if not cin:
        raise InvalidValue(_("The CIN is missing."))
    if not _CIN.match(cin):
        raise InvalidValue(
            _("“%(value)s” is not a CIN: one or two letters followed by up to six digits, e.g. AB123456."),
            {"value": _text(value)},
        )
    return cin


def clean_ppr(value) -> str:
    ppr = _SPACES.sub("", _text(value))
    if not ppr:
        raise InvalidValue(_("The payroll number (PPR) is missing."))
    if not _PPR.match(ppr):
        raise InvalidValue(_("“%(value)s” is not a payroll number (PPR): 5 to 10 digits."), {"value": _text(value)})
    return ppr


def normalize_phone(value) -> str:
    """Moroccan numbers in national form: '+212 5 37-57 81 90' -> '0537578190'."""
    digits = re.sub(r"[^0-9+]", "", _text(value))
    if digits.startswith("+212"):
        digits = "0" + digits[4:]
    elif digits.startswith("00212"):
        digits = "0" + digits[5:]
    elif len(digits) == 9 and digits[0] in "5678":
        digits = "0" + digits
    return digits


def clean_phone(value, *, mobile: bool, required: bool = True) -> str:
    raw = _text(value)
    if not raw:
        if required:
            raise InvalidValue(_("The mobile number is missing.") if mobile else _("The office phone is missing."))
        return ""
    phone = normalize_phone(raw)
    pattern = r"^0[67][0-9]{8}$" if mobile else r"^0[5-8][0-9]{8}$"
    if not re.match(pattern, phone):
        if mobile:
            msg = _("“%(value)s” is not a Moroccan mobile number: 06 or 07 followed by 8 digits.")
        else:
            msg = _("“%(value)s” is not a Moroccan phone number: 10 digits starting with 05, 06, 07 or 08.")
        raise InvalidValue(msg, {"value": raw})
    return phone


def clean_email(value) -> str:
    email = _text(value).lower()
    if not email:
        raise InvalidValue(_("The e-mail address is missing."))
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidValue(_("“%(value)s” is not a valid e-mail address."), {"value": _text(value)}) from None
    return email


def clean_name(value, *, max_length: int = 150) -> str:
    name = " ".join(_text(value).split())
    if not name:
        raise InvalidValue(_("The full name is missing."))
    if len(name) > max_length:
        raise InvalidValue(_("The full name is longer than %(max)d characters."), {"max": max_length})
    return name


def fold(value) -> str:
    """A comparison key for names: no accents, no Arabic diacritics or tatweel, lower case."""
    text = unicodedata.normalize("NFKD", _text(value))
    text = "".join(c for c in text if not unicodedata.combining(c) and c != "\u0640")
    text = text.replace("أ", "ا").replace("إ", "ا").replace("آ", "ا").replace("ة", "ه").replace("ى", "ي")
    return " ".join(re.sub(r"[\s'’`\-_.]+", " ", text).lower().split())
