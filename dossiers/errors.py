"""The dossiers' refusals: ``DossierError``, with reasons an officer can act on, and the check of an
officer's written text. The lowest module of the app's engine: the transitions, the opening rules and
the services all raise these."""

from django.utils.translation import gettext_lazy as _

from .workflow import TEXT_MAX_LENGTH


class DossierError(Exception):
    """A refused act, with the reasons an officer can act on (translatable messages)."""

    def __init__(self, *reasons, code="refused"):
        super().__init__("; ".join(str(r) for r in reasons))
        self.reasons = list(reasons)
        self.code = code


def officer_text(text) -> str:
    """An officer's text, stripped; refused (never cut) when longer than TEXT_MAX_LENGTH."""
    text = (text or "").strip()
    if len(text) > TEXT_MAX_LENGTH:
        raise DossierError(_("The text is too long: at most %(max)d characters (it has %(n)d).")
                           % {"max": TEXT_MAX_LENGTH, "n": len(text)}, code="too_long")
    return text
