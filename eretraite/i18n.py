"""The two official languages, and messages kept to be read later in the reader's own language.

A message written to the database (a refused row of an import, kept after its confirmation) must
not be frozen in the language of whoever caused it: an Arabic-speaking reader opens the record a
week later. ``Deferred`` keeps the message's msgid and its parameters as JSON and renders them in the
language active when it is displayed. A parameter that is itself translatable (a role's name, a
council's label) is stored rendered in each official language.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import get_language, gettext, override

OFFICIAL = ("fr", "ar")


def is_arabic(language: str | None = None) -> bool:
    return (language or get_language() or "").startswith("ar")


def in_each(render) -> dict[str, str]:
    """``render()`` in each official language: ``{"fr": ..., "ar": ...}``."""
    result = {}
    for language in OFFICIAL:
        with override(language):
            result[language] = str(render())
    return result


def _stored(value):
    if isinstance(value, Promise):
        return in_each(lambda: value)
    if value is None or isinstance(value, (str, int, float, bool, dict)):
        return value
    return str(value)


def shown(value):
    """A value stored by ``in_each`` (``{"fr": ..., "ar": ...}``) in the active language; others as they are."""
    if isinstance(value, dict) and "fr" in value:
        return value["ar"] if is_arabic() and value.get("ar") else value["fr"]
    return value


class Deferred:
    """A message rendered when it is read: ``str(Deferred(gettext_noop("… %(x)s …"), {"x": 1}))``.

    The msgid must be marked for extraction where it is written (``gettext_noop``), so that it is in
    the catalogues; ``as_json``/``from_json`` carry it through a JSONField.
    """

    __slots__ = ("msgid", "params")

    def __init__(self, msgid, params=None):
        self.msgid = str(msgid)
        self.params = {key: _stored(value) for key, value in (params or {}).items()}

    def __str__(self):
        text = gettext(self.msgid) if self.msgid else ""
        if not self.params:
            return text
        return text % {key: shown(value) for key, value in self.params.items()}

    def __repr__(self):
        return f"Deferred({self.msgid!r}, {self.params!r})"

    def __eq__(self, other):
        return isinstance(other, Deferred) and (self.msgid, self.params) == (other.msgid, other.params)

    def __hash__(self):
        return hash(self.msgid)

    def as_json(self) -> dict:
        return {"msgid": self.msgid, "params": self.params}

    @classmethod
    def rendered(cls, message) -> Deferred:
        """A message already translatable (a lazy string) kept rendered in each official language."""
        return cls("%(message)s", {"message": in_each(lambda: message)})

    @classmethod
    def from_json(cls, data) -> Deferred:
        """A stored message; a plain string (a record written before messages were deferred) is shown as
        it was written."""
        if isinstance(data, dict) and "msgid" in data:
            return cls(data["msgid"], data.get("params"))
        return _Literal(str(data))


class _Literal(Deferred):
    def __str__(self):
        return self.msgid
