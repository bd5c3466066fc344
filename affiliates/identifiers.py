"""Identifiers and search queries: normalise, fold, classify. Pure functions, no ORM.

Canonical forms, used both when the registry is written and when it is searched:
- affiliation number and PPR: digits only, without leading zeros ('0012 345' -> '12345');
- CIN: one or two upper-case letters then digits without leading zeros ('ab 012345' -> 'AB12345');
- names: folded (no accents, no Arabic diacritics or tatweel, alef and ta marbuta forms unified,
  lower case, single spaces).
"""

import re
import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from accounts.rules import fold as _accounts_fold

MAX_QUERY_LENGTH = 100
MIN_NAME_LETTERS = 2

_EASTERN_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_SEPARATORS = re.compile(r"[\s\u00a0\u200e\u200f._/\-]+")
_CIN = re.compile(r"^([A-Z]{1,2})([0-9]{1,6})$")
_LETTERS_THEN_DIGITS = re.compile(r"^[A-Z]+[0-9]+$")
_ARABIC = re.compile(r"[\u0600-\u06ff]")
_NOT_A_NAME_CHAR = re.compile(r"[^\w\s]|[\d_]")


class InvalidQuery(ValueError):
    """A query the search cannot run; ``message`` tells the officer what to type."""

    def __init__(self, code, message):
        super().__init__(str(message))
        self.code = code
        self.message = message


def _text(value) -> str:
    return unicodedata.normalize("NFKC", str(value or "")).translate(_EASTERN_DIGITS).strip()


def fold(value) -> str:
    """The search key of a name (French or Arabic)."""
    return _accounts_fold(value)


def _word_keys(word: str) -> set[str]:
    keys = {word}
    if len(word) >= 4:  # one deletion each: matches one typo (missing, extra or wrong letter)
        keys.update(word[:i] + word[i + 1 :] for i in range(len(word)))
    return keys


def name_keys(*folded_names: str) -> str:
    """The search keys of folded names: each word and its one-letter deletions, space-separated.

    A query word matches a stored word when their key sets meet: same word, or one letter
    missing, added or changed (benani/bennani, fatma/fatima, mohamed/mohammed).
    """
    keys = set()
    for name in folded_names:
        for word in name.split():
            keys |= _word_keys(word)
    return " ".join(sorted(keys))


def query_word_keys(folded_query: str) -> list[list[str]]:
    """For each word of the query (two letters or more), the keys that would match it."""
    return [sorted(_word_keys(w)) for w in folded_query.split() if len(w) >= 2]


def canonical_number(value) -> str:
    """An affiliation number or a PPR: digits only, no leading zeros."""
    digits = _SEPARATORS.sub("", _text(value))
    return digits.lstrip("0") if digits.isdigit() else digits


def canonical_cin(value) -> str:
    compact = _SEPARATORS.sub("", _text(value)).upper()
    m = _CIN.match(compact)
    if not m:
        return compact
    return m.group(1) + (m.group(2).lstrip("0") or "0")


def is_valid_cin(value) -> bool:
    return bool(_CIN.match(canonical_cin(value)))


@dataclass(frozen=True)
class Query:
    kind: str  # 'number' (affiliation number or PPR), 'cin' or 'name'
    value: str  # canonical identifier, or the folded name
    script: str = ""  # 'ar' or 'fr' for a name


def parse_query(raw) -> Query:
    """Classify what the officer typed, or raise ``InvalidQuery`` saying what to type instead."""
    text = _text(raw)
    if not text:
        raise InvalidQuery(
            "empty", _("Type a name, an affiliation number, a payroll number (PPR) or a CIN.")
        )
    if len(text) > MAX_QUERY_LENGTH:
        raise InvalidQuery(
            "too_long",
            _("The search is limited to %(max)d characters: type a name or one identifier.")
            % {"max": MAX_QUERY_LENGTH},
        )
    compact = _SEPARATORS.sub("", text).upper()
    if any(c.isdigit() for c in compact):
        if compact.isdigit():
            value = compact.lstrip("0")
            if not value:
                raise InvalidQuery(
                    "bad_number", _("An affiliation number or a PPR cannot be only zeros.")
                )
            if len(value) > 12:
                raise InvalidQuery(
                    "bad_number",
                    _(
                        "“%(value)s” is too long for an affiliation "
                        "number or a PPR (12 digits at most)."
                    )
                    % {"value": text},
                )
            return Query("number", value)
        if _LETTERS_THEN_DIGITS.match(compact):
            m = _CIN.match(compact)
            if not m:
                raise InvalidQuery(
                    "bad_cin",
                    _(
                        "“%(value)s” is not a CIN: one or two letters "
                        "followed by up to six digits, e.g. AB123456."
                    )
                    % {"value": text},
                )
            return Query("cin", canonical_cin(compact))
        raise InvalidQuery(
            "bad_query",
            _(
                "“%(value)s” is neither a name nor an identifier. Type a "
                "name, or a CIN (e.g. AB123456), or an affiliation number "
                "or PPR (digits only)."
            )
            % {"value": text[:40]},
        )
    name = " ".join(_NOT_A_NAME_CHAR.sub(" ", fold(text)).split())
    letters = sum(1 for c in name if c.isalpha())
    if letters == 0:
        raise InvalidQuery(
            "no_letters", _("Type a name (letters), an affiliation number, a PPR or a CIN.")
        )
    if letters < MIN_NAME_LETTERS:
        raise InvalidQuery(
            "too_short", _("Type at least %(n)d letters of the name.") % {"n": MIN_NAME_LETTERS}
        )
    return Query("name", name, "ar" if _ARABIC.search(name) else "fr")
