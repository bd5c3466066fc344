"""How a timeline event reads in a language: one place for the dossier page, the API and the e-mails.

Document events (``DOCUMENT_ACTIONS``) name their checklist item in ``Event.data`` in both languages
(``label_fr``, ``label_ar``, since migration 0003 for the older ones too); the reader's language picks
one. Other events carry their text (a reason, an observation, the CMR's words); a CMR stage reported
without words carries its bare stage code, which says nothing the state does not.

The dossier page reads the timeline newest first, one line per thing that happened (``entries``): a
CMR agent's stage command and the back office's confirmation of it are one line (the stage, with who
sent it), not two; a run of document events of one checklist line (five versions of the same RIB) is one
line, each version listed under it.

The writers (``new_event``, ``write_event``) are here too: every act of the services and of the
workflow engine (``dossiers.transitions``) records its event through them.
"""

from dataclasses import dataclass, field
from functools import cache

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from eretraite.formatting import listing

from .models import Event
from .workflow import STAGE_TRANSITION, TRANSITIONS, State

DOCUMENT_ACTIONS = ("document_added", "document_replaced", "document_removed")
UPLOADS = ("document_added", "document_replaced")

# The labels of the acts that are not transitions of the workflow (those read as their transition).
LABELS = {
    "opened": gettext_lazy("Dossier opened"), "document_added": gettext_lazy("Document added"),
    "document_replaced": gettext_lazy("Document replaced"), "document_removed": gettext_lazy("Document removed"),
    "observation": gettext_lazy("Observation"), "assigned": gettext_lazy("Taken in hand"),
    "stage_sent": gettext_lazy("Stage sent to the CMR"),
    "second_certifier_named": gettext_lazy("Second certifier named"),
    "second_certifier_withdrawn": gettext_lazy("Second certifier withdrawn"),
    "delegated": gettext_lazy("Delegated to the provincial office"),
    "delegation_returned": gettext_lazy("Returned to the commune"),
}


def event_label(event) -> str:
    """What an event is called, in the active language: its transition's label, or its act's; a stage
    command names the stage it asked for."""
    action = event.action
    if action == "stage_sent":
        name = STAGE_TRANSITION.get((event.data or {}).get("stage"))
        if name is not None:
            return _("%(action)s: sent to the CMR, not confirmed yet") % {"action": TRANSITIONS[name].label}
    if action in TRANSITIONS:
        return str(TRANSITIONS[action].label)
    return str(LABELS.get(action, action))


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


# --- the dossier page's reading ----------------------------------------------------------------------

@dataclass
class Entry:
    """One line of the dossier page's timeline, in the active language."""

    event: Event  # the line's event (of a run of document events, the newest)
    label: str
    state: str = ""  # the state it reached, when its label does not say it already
    actor: str = ""
    detail: str = ""
    versions: list = field(default_factory=list)  # a run of document events: each (an Entry), newest first
    sent: "Entry | None" = None  # the CMR agent's command (its line) that this stage of the back office confirms

    @property
    def at(self):
        return self.event.at

    @property
    def action(self):
        return self.event.action


def _entry(event) -> Entry:
    label = event_label(event)
    state = ""
    if event.to_state:
        try:
            state = str(State(event.to_state).label)
        except ValueError:
            state = event.to_state
        if state == label:  # "Transmitted to the CMR", twice
            state = ""
    return Entry(event, label, state, event_actor(event), event_detail(event))


def _line(event):
    """The checklist line a document event is about: its item, and the family member where it names one."""
    data = event.data or {}
    return data.get("item"), data.get("member")


def _collapsed(run) -> Entry:
    """A run (newest first) of document events of one checklist line, as one line."""
    newest = run[0]
    uploads = sum(1 for e in run if e.action in UPLOADS)
    item = document_label(newest.event) or (newest.event.data or {}).get("item", "")
    if uploads == len(run):
        label = ngettext("%(count)d version of “%(item)s” uploaded", "%(count)d versions of “%(item)s” uploaded",
                         uploads) % {"count": uploads, "item": item}
    else:
        label = ngettext("%(count)d change to “%(item)s” (uploads and removals)",
                         "%(count)d changes to “%(item)s” (uploads and removals)", len(run)) % {
            "count": len(run), "item": item}
    actors = listing(dict.fromkeys(e.actor for e in run))
    for version in run:  # under the line: each version with its file
        version.detail = (version.event.data or {}).get("file", "")
    return Entry(newest.event, label, "", actors, "", versions=run)


def entries(events) -> list[Entry]:
    """The dossier page's timeline, newest first: ``events`` in any order (their actors and "on behalf of"
    collectivities read with them)."""
    chronological, folded, awaiting = [], set(), {}  # awaiting: stage -> the index of its unconfirmed command
    for event in sorted(events, key=lambda e: (e.at, e.pk or 0)):
        entry = _entry(event)
        if event.action == "stage_sent":
            awaiting[(event.data or {}).get("stage")] = len(chronological)
        elif event.cmr_event_id and event.to_state in awaiting:  # the back office confirms the command: one line
            index = awaiting.pop(event.to_state)
            entry.sent = chronological[index]
            folded.add(index)
        chronological.append(entry)
    result = []
    for index in range(len(chronological) - 1, -1, -1):
        if index in folded:
            continue
        entry, previous = chronological[index], result[-1] if result else None
        if entry.action in DOCUMENT_ACTIONS and previous is not None and previous.action in DOCUMENT_ACTIONS \
                and _line(previous.event) == _line(entry.event):
            result[-1] = _collapsed([*(previous.versions or [previous]), entry])
        else:
            result.append(entry)
    return result
