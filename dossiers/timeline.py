"""How a timeline event reads in a language: one place for the dossier page, the API and the e-mails.

Document events (``DOCUMENT_ACTIONS``) name their checklist item in ``Event.data`` in both languages
(``label_fr``, ``label_ar``, since migration 0003 for the older ones too); the reader's language picks
one. Other events carry their text (a reason, an observation, the CMR's words); a CMR stage reported
without words carries its bare stage code, which says nothing the state does not.

The writers (``new_event``, ``write_event``) are here too: every act of the services and of the
workflow engine (``dossiers.transitions``) records its event through them.
"""

from functools import cache

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from .models import Event

DOCUMENT_ACTIONS = ("document_added", "document_replaced", "document_removed")


def _arabic(language=None) -> bool:
    return (language or translation.get_language() or settings.LANGUAGE_CODE).startswith("ar")


def document_label(event, language=None) -> str:
    """The checklist item a document event names, in ``language`` (default: the active one)."""
    data = event.data or {}
    if "label_fr" not in data:
        return ""
    return (data.get("label_ar") if _arabic(language) else "") or data["label_fr"]


def event_detail(event, language=None) -> str:
    """What is said under an event: its document's label, the provincial office a dossier was delegated to,
    or its text (a bare stage code: nothing)."""
    label = document_label(event, language)
    if label:
        return label
    if event.action == "delegated":  # the office's name, in the reader's language
        data = event.data or {}
        return (data.get("office_ar") if _arabic(language) else "") or data.get("office_fr", "")
    return "" if event.text == event.to_state else event.text


@cache
def _names_of_the_cmr() -> frozenset:
    names = {"the CMR"}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            names.add(_("the CMR"))
    return frozenset(names)


def event_actor(event) -> str:
    """Who acted, in the active language: the officer's name, or "the CMR" for the back office and the
    platform (stored in the language that was active when the event was written), with the CMR agent's
    name when he commanded the stage in the portal."""
    if event.actor_id and event.actor is not None:
        return event.actor.get_full_name() or event.actor_repr
    if event.actor_repr in _names_of_the_cmr():
        agent = (event.data or {}).get("by") if isinstance(event.data, dict) else None
        return f"{_('the CMR')} ({agent})" if agent else _("the CMR")  # a stage its agent commanded here
    return event.actor_repr


def new_event(dossier, action, *, by=None, text="", data=None, from_state="", to_state="", on_behalf_of=None,
              cmr_event_id="") -> Event:
    """A timeline event, not saved (the engine writes a batch's at once): who acted is ``by``, or the CMR
    (the back office, or the platform on its behalf) when ``by`` is None."""
    return Event(
        dossier=dossier, action=action, actor=by if getattr(by, "pk", None) else None,
        actor_repr=str(by) if by is not None else _("the CMR"), text=text, data=data or {},
        from_state=from_state, to_state=to_state, on_behalf_of=on_behalf_of, cmr_event_id=cmr_event_id,
    )


def write_event(dossier, action, **kw) -> Event:
    """A timeline event, saved (in the caller's transaction)."""
    event = new_event(dossier, action, **kw)
    event.save()
    return event
