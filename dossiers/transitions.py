"""The dossier engine: who may take a transition of ``dossiers.workflow`` now, and taking it.

``apply_transition`` (``apply_transition_many`` for the platform's batches) is the one path by which a
dossier's state changes: it locks the dossier, checks who acts (``may_act``), the reason, and every
guard the workflow table names (``GUARDS``: each one real; the app refuses to start if the table
names one that is not), moves the state and writes the timeline and audit events in the same
transaction; the notification is queued on commit.

``possible`` asks the same questions without acting, for the pages and the API: each transition
from the dossier's state, whether this account may take it now and, if not, why. ``next_step`` adds
what the dossier lacks and who may take each step, by name. The pages trust the verdicts recorded
at upload; the engine, about to act, re-reads every file of the sending and verifies its signature
again (``Facts.thorough``).
"""

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_text_list
from django.utils.translation import gettext_lazy as _

from accounts.models import AuditEvent
from accounts.permissions import Capability, can
from accounts.selectors import activated, signing_officers, visible_collectivities
from accounts.services import audit_event
from signatures.services import MESSAGES, Code, check_officer_signature

from . import selectors
from .errors import DossierError, officer_text
from .models import Document, Dossier, Event
from .tasks import notify_stage_changes
from .timeline import new_event
from .workflow import BEFORE_CERTIFICATION, TRANSITIONS, Actor, State, Transition, transitions_from

log = logging.getLogger(__name__)

# The capability an account needs to act as each officer of the workflow table.
ACTOR_CAPABILITY = {Actor.PREPARER: Capability.PREPARE_DOSSIERS, Actor.CERTIFIER: Capability.CERTIFY_DOSSIERS}
# Transitions the dossier page offers through their own forms rather than the plain action buttons.
OWN_FORM = frozenset({"request_documents"})


# --- who acts --------------------------------------------------------------------------------------

def may_act(user, dossier, transition, *, in_scope=None) -> bool:
    """Whether ``user`` (None: the platform or the CMR back office) may take ``transition`` on
    ``dossier``: his role's capability and, for an officer's transition, the dossier in his scope
    (``in_scope``, when the caller knows it already)."""
    actor = transition.actor
    if actor == Actor.SYSTEM:
        return user is None
    if actor == Actor.CMR:  # a CMR agent commands the back office; what it reports by itself is its own
        return user is None or (transition.commanded and can(user, Capability.ACT_ON_STAGES))
    capability = ACTOR_CAPABILITY.get(actor)
    if user is None or capability is None or not can(user, capability):
        return False
    if in_scope is None:
        in_scope = visible_collectivities(user).filter(pk=dossier.collectivity_id).exists()
    return in_scope


def on_behalf(user, collectivity):
    """What an act says it was done "on behalf of": the dossier's commune when a provincial office acts,
    whatever the office's session says (the ``on_behalf_of`` the services still accept is not used)."""
    return collectivity if user is not None and can(user, Capability.ACT_FOR_COMMUNE) else None


# --- the guards ------------------------------------------------------------------------------------

class Facts:
    """What the guards read of one dossier, read once for all the transitions and people asked about.

    ``thorough``: the engine, about to act, re-reads each file of the sending (its digest) and verifies
    its signature again against today's officers; the pages trust the verdicts recorded at upload and
    check only that each signer may still sign. ``lines``: the checklist, when the page has it already.
    """

    def __init__(self, dossier, *, thorough=False, lines=None):
        self.dossier = dossier
        self.thorough = thorough
        self._lines = lines
        self._signers = {}

    @cached_property
    def documents(self) -> list[Document]:
        if "documents" in getattr(self.dossier, "_prefetched_objects_cache", {}):  # the page's
            return list(self.dossier.documents.all())
        return list(self.dossier.documents.select_related("item", "member", "uploaded_by"))

    @cached_property
    def sending(self) -> list[Document]:
        """The documents of the current round: what a certification sends."""
        return [d for d in self.documents if d.round == self.dossier.round]

    @cached_property
    def lines(self) -> list:
        return self._lines if self._lines is not None else selectors.checklist(self.dossier)

    def signers(self, uploader) -> list[dict]:
        """Who may sign what ``uploader`` uploads for the dossier's collectivity."""
        if uploader.pk not in self._signers:
            self._signers[uploader.pk] = signing_officers(self.dossier.collectivity_id, uploader=uploader)
        return self._signers[uploader.pk]


@dataclass(frozen=True)
class Guard:
    check: Callable  # (facts, by) -> the reasons it refuses (empty: met)
    code: str = "incomplete"  # the refusal's code when it fails
    personal: bool = False  # about who acts, not about the dossier: another officer may take the step


def _has_documents(facts, by) -> list:
    return [] if facts.documents else [_("The dossier has no document yet: an officer who may prepare dossiers adds "
                                         "its signed documents on the checklist before submitting it.")]


def _requested_documents_present(facts, by) -> list:
    """Each item the CMR asked for has a document in the supplement."""
    dossier = facts.dossier
    request = dossier.document_requests.filter(round=dossier.round - 1, fulfilled_at=None).first() \
        or dossier.document_requests.filter(fulfilled_at=None).first()
    if request is None:
        return []
    present = {d.item_id for d in facts.sending}
    if not present:
        return [_("None of the documents the CMR asked for is added yet: an officer who may prepare dossiers adds "
                  "them on the checklist (marked “asked again by the CMR”) before submitting the supplement.")]
    return [_("Missing document: %(item)s.") % {"item": item.label} for item in request.items.all()
            if item.pk not in present]


def _complete(facts, by) -> list:
    """Every required line of the checklist has its document: all of them named, to fix them at once."""
    return [_("Missing document: %(item)s.") % {
        "item": f"{line.item.label} — {line.member.full_name}" if line.member else line.item.label}
        for line in facts.lines if line.required and not line.satisfied]


def _signatures_accepted(facts, by) -> list:
    """Each document of the sending passed the verifier and is signed by someone who may still sign for
    the collectivity (an account disabled, an officer moved since the upload); thorough, its stored file
    is still the one accepted and its signature verifies again today (a certificate revoked since)."""
    problems = []
    for document in facts.sending:
        if document.verdict != Code.OK:
            problems.append(_("“%(name)s”: %(message)s") % {
                "name": document.original_name, "message": MESSAGES.get(document.verdict, document.verdict)})
            continue
        signers = facts.signers(document.uploaded_by)
        if facts.thorough:
            problem = _verified_again(document, signers)
        elif document.signer_account_id is not None and document.signer_account_id not in {
                s["account_id"] for s in signers}:
            problem = _("“%(name)s”: %(signer)s may no longer sign for this collectivity (account disabled, or "
                        "no longer one of its officers). Have the document signed by one of its officers and "
                        "upload it again.") % {"name": document.original_name, "signer": document.signer}
        else:
            problem = None
        if problem is not None:
            problems.append(problem)
    return problems


def _verified_again(document, signers):
    data = document.file.open("rb").read()
    document.file.close()
    if hashlib.sha256(data).hexdigest() != document.sha256:
        return _("The stored file of “%(name)s” does not match its digest: upload it again.") % {
            "name": document.original_name}
    report = check_officer_signature(data, signers)
    if not report.accepted:
        return _("“%(name)s”: %(message)s") % {"name": document.original_name, "message": report.message}
    return None


def _certifier_is_not_preparer(facts, by) -> list:
    """Four eyes (``DOSSIER_CERTIFIER_MUST_DIFFER``): the officer who submitted the dossier does not
    certify it too."""
    if settings.DOSSIER_CERTIFIER_MUST_DIFFER and by is not None and facts.dossier.submitted_by_id == by.pk:
        return [_("The officer who submitted the dossier may not certify it too: another officer with "
                  "certifying authority must do it.")]
    return []


def _office_certifies_when_named(facts, by) -> list:
    """A provincial office (which acts for the communes of its province) certifies a commune's dossier, or
    returns it to its preparer, only as the second certifier the commune named for it."""
    if by is not None and can(by, Capability.ACT_FOR_COMMUNE) and facts.dossier.second_certifier_id != by.pk:
        return [_("A provincial office certifies a commune's dossier only when the commune has named it the "
                  "dossier's second certifier: the commune's officers name it on the dossier's page.")]
    return []


def _not_delegated(facts, by) -> list:
    """No step of the workflow while the dossier is with the provincial office (``delegate``)."""
    dossier = facts.dossier
    if dossier.delegated_to_id is None:
        return []
    return [_("The dossier is delegated to the provincial office of %(office)s: no step can be taken until "
              "the office returns it to the commune.") % {"office": dossier.delegated_to.name}]


GUARDS = {
    "not_delegated": Guard(_not_delegated, code="delegated", personal=True),
    "office_certifies_when_named": Guard(_office_certifies_when_named, code="not_named", personal=True),
    "has_documents": Guard(_has_documents),
    "requested_documents_present": Guard(_requested_documents_present),
    "complete": Guard(_complete),
    "signatures_accepted": Guard(_signatures_accepted),
    "certifier_is_not_preparer": Guard(_certifier_is_not_preparer, code="four_eyes", personal=True),
}

_unimplemented = sorted({name for t in TRANSITIONS.values() for name in t.guards} - GUARDS.keys())
if _unimplemented:
    raise ImproperlyConfigured(f"dossiers.workflow names guards that dossiers.transitions lacks: {_unimplemented}")


def _refusals(facts, transition, by, *, personal) -> list[tuple[Guard, list]]:
    """The guards of ``transition`` that refuse, with their reasons: the personal ones (about ``by``) or
    the dossier's."""
    found = []
    for name in transition.guards:
        guard = GUARDS[name]
        if guard.personal == personal:
            reasons = guard.check(facts, by)
            if reasons:
                found.append((guard, reasons))
    return found


def _reasons(refusals) -> tuple:
    return tuple(reason for _guard, reasons in refusals for reason in reasons)


def completeness_problems(dossier, *, by) -> list:
    """Why ``by`` may not certify the dossier now: every reason of the certification's guards at once,
    files re-read and signatures verified again."""
    facts, certify = Facts(dossier, thorough=True), TRANSITIONS["certify"]
    return [*_reasons(_refusals(facts, certify, None, personal=False)),
            *_reasons(_refusals(facts, certify, by, personal=True))]


# --- what an account may do now (the pages, the API) ----------------------------------------------

@dataclass(frozen=True)
class Option:
    """One transition from a dossier's state, as one account sees it now."""

    transition: Transition
    account: tuple = ()  # why this account may not take it (its role, its rights, its scope)
    personal: tuple = ()  # the guards about who acts (four eyes)
    dossier: tuple = ()  # the guards about the dossier (what is missing), whoever acts
    who: tuple = ()  # who may take it (``next_step``): officers by name, or the CMR, or the platform

    @property
    def name(self) -> str:
        return self.transition.name

    @property
    def allowed(self) -> bool:
        return not (self.account or self.personal or self.dossier)

    @property
    def offered(self) -> bool:
        """Whether the page offers it to this account: his to take, and no guard about him refuses (what
        the dossier lacks, the page says beside it, and the service answers the click with it)."""
        return not (self.account or self.personal)

    @property
    def reasons(self) -> tuple:
        return self.account + self.personal + self.dossier

    @property
    def by_officers(self) -> bool:
        """Taken by the collectivity's officers (not by the CMR or the platform)."""
        return self.transition.actor in ACTOR_CAPABILITY


def _account_refusal(transition):
    if transition.actor == Actor.SYSTEM:
        return _("The platform takes this step by itself.")
    if transition.actor == Actor.CMR:
        return _("Only the CMR takes this step.")
    return _("Your account may not do this: it is for %(actor)s.") % {"actor": Actor(transition.actor).label}


def possible(user, dossier, *, facts=None) -> list[Option]:
    """Each transition from the dossier's state: may ``user`` take it now and, if not, why (his
    account, the guards about him, the dossier's). What the service would answer, but the signatures
    as recorded at upload (the service verifies them again)."""
    facts = facts or Facts(dossier)
    in_scope = None
    options = []
    for transition in transitions_from(dossier.state):
        capability = ACTOR_CAPABILITY.get(transition.actor)
        if in_scope is None and capability is not None and user is not None and can(user, capability):
            in_scope = visible_collectivities(user).filter(pk=dossier.collectivity_id).exists()  # asked once
        account = () if may_act(user, dossier, transition, in_scope=in_scope) else (_account_refusal(transition),)
        personal = () if account else _reasons(_refusals(facts, transition, user, personal=True))
        options.append(Option(transition, account, personal, _reasons(_refusals(facts, transition, None,
                                                                                 personal=False))))
    return options


@dataclass(frozen=True)
class NextStep:
    """The dossier page's "next step" panel."""

    missing: tuple  # what the dossier lacks before a step can be taken, each reason once
    options: tuple  # Option, each with ``who``

    @property
    def actions(self) -> list[Transition]:
        """The buttons: the steps offered to the reader, the platform's and the own-form ones aside."""
        return [o.transition for o in self.options
                if o.offered and o.transition.actor != Actor.SYSTEM and o.name not in OWN_FORM]


def next_step(user, dossier, *, lines=None) -> NextStep:
    """What the dossier lacks, each step from its state with who may take it (the collectivity's
    officers holding the right, by name, without those a guard about the person refuses: the submitter
    for the certification), and why ``user`` may not take it now."""
    facts = Facts(dossier, lines=lines)
    options = possible(user, dossier, facts=facts)
    officers = None
    named = []
    for option in options:
        capability = ACTOR_CAPABILITY.get(option.transition.actor)
        if capability is None:
            who = (str(Actor(option.transition.actor).label),)
        else:
            if officers is None:
                officers = selectors.officers_of(dossier.collectivity_id)
                second = dossier.second_certifier
                if second is not None and second.collectivity_id != dossier.collectivity_id and second.is_active:
                    officers.append(second)  # the provincial office's certifier the commune named
            who = tuple(officer.get_full_name() for officer in officers if can(officer, capability)
                        and (officer.collectivity_id == dossier.collectivity_id
                             or may_act(officer, dossier, option.transition))
                        and not _refusals(facts, option.transition, officer, personal=True))
        named.append(replace(option, who=who))
    missing = tuple(dict.fromkeys(str(reason) for option in options for reason in option.dossier))
    return NextStep(missing, tuple(named))


# --- the second certifier, the delegation to the provincial office --------------------------------

def _own_officer(user, dossier) -> bool:
    """``user`` is one of the dossier's collectivity's own officers (not a provincial office acting for it)."""
    return (user is not None and user.collectivity_id == dossier.collectivity_id
            and not can(user, Capability.ACT_FOR_COMMUNE))


def _office_of(dossier):
    """The prefecture or province whose provincial office acts for the dossier's commune (None: not a commune)."""
    collectivity = dossier.collectivity
    if collectivity.kind != collectivity.Kind.COMMUNE:
        return None
    return collectivity.province


def naming_problems(user, dossier) -> list:
    """Why ``user`` may not name (or clear) the dossier's second certifier now (empty: he may): one of the
    council's own officers who prepares or certifies its dossiers, before the certification, not while
    the provincial office holds the dossier."""
    if not (_own_officer(user, dossier) and (can(user, Capability.PREPARE_DOSSIERS)
                                             or can(user, Capability.CERTIFY_DOSSIERS))):
        return [_("Only the council's own officers who prepare or certify its dossiers name a second certifier.")]
    if dossier.state not in BEFORE_CERTIFICATION:
        return [_("A second certifier is named before the certification: the dossier is %(state)s.")
                % {"state": dossier.get_state_display()}]
    return _not_delegated(Facts(dossier), user)


def second_certifier_problems(dossier, candidate, *, by=None) -> list:
    """Why ``candidate`` may not be named the dossier's second certifier (empty: he may): an active account,
    activated, holding the right to certify, and either another officer of the dossier's council or the
    provincial office of its province; never the officer who submitted the dossier, nor the one naming."""
    if by is not None and candidate.pk == by.pk:
        return [_("You may not name yourself: the second certifier is another person.")]
    office = _office_of(dossier)
    offices = selectors.office_roles()
    # the council's own officers (a provincial office's account attached to a provincial council's row
    # is not one of its officers: its scope is the communes), or the office of the commune's province
    if not ((candidate.collectivity_id == dossier.collectivity_id and candidate.role not in offices)
            or (office is not None and candidate.collectivity_id == office.pk
                and candidate.role in offices)):  # nothing said of others' accounts
        return [_("This account is neither an officer of this council nor of its provincial office.")]
    name = candidate.get_full_name() or candidate.username
    if candidate.pk == dossier.submitted_by_id:
        return [_("%(name)s submitted the dossier: the second certifier must be someone else.") % {"name": name}]
    if not candidate.is_active:
        return [_("%(name)s's account is disabled.") % {"name": name}]
    if not activated(type(candidate).objects.filter(pk=candidate.pk)).exists():
        return [_("%(name)s has not activated his account yet.") % {"name": name}]
    if not can(candidate, Capability.CERTIFY_DOSSIERS):
        return [_("%(name)s may not certify dossiers: the right is not granted to his account.") % {"name": name}]
    return []


def delegation_problems(user, dossier) -> list:
    """Why ``user`` may not delegate the dossier to the provincial office now (empty: he may): one of the
    commune's own officers who prepares its dossiers, before the certification, once at a time, to the
    provincial office of the commune's province, which must have an active account on the portal."""
    if not (_own_officer(user, dossier) and can(user, Capability.PREPARE_DOSSIERS)):
        return [_("Only the commune's own officers who prepare its dossiers delegate one to the provincial "
                  "office.")]
    if dossier.delegated_to_id is not None:
        return [_("The dossier is already delegated to the provincial office of %(office)s.")
                % {"office": dossier.delegated_to.name}]
    if dossier.state not in BEFORE_CERTIFICATION:
        return [_("A dossier is delegated before its certification: it is %(state)s.")
                % {"state": dossier.get_state_display()}]
    office = _office_of(dossier)
    if office is None:
        return [_("Only a commune's dossier can be delegated to a provincial office.")]
    if not selectors.provincial_offices_of(office):
        return [_("The provincial office of %(office)s has no active account on the portal: the dossier cannot "
                  "be delegated to it.") % {"office": office.name}]
    return []


def holds(user, dossier) -> bool:
    """Whether ``user`` is of the provincial office the dossier is delegated to (which may then complete it,
    observe and return it)."""
    return (dossier.delegated_to_id is not None and user is not None and can(user, Capability.ACT_FOR_COMMUNE)
            and user.collectivity_id == dossier.delegated_to_id)


def return_problems(user, dossier) -> list:
    """Why ``user`` may not return the delegated dossier to the commune (empty: he may)."""
    if dossier.delegated_to_id is None:
        return [_("The dossier is not delegated to a provincial office.")]
    if not holds(user, dossier):
        return [_("Only the provincial office the dossier is delegated to returns it to the commune.")]
    return []


def delegation_lock(user, dossier):
    """Why ``user`` may not change the dossier's documents now because it is delegated (None: no lock): the
    commune's officers wait for the provincial office to return it."""
    if dossier.delegated_to_id is None or holds(user, dossier):
        return None
    return _not_delegated(Facts(dossier), user)[0]


# --- acting ----------------------------------------------------------------------------------------

def apply_transition(dossier_id, name, *, by, reason="", data=None, on_behalf_of=None, cmr_event_id="",
                     after=None):
    """Take transition ``name`` on a dossier, or refuse with reasons; the timeline event is in the same
    transaction. ``by`` is the user, or None for the platform or the CMR back office."""
    transition = _transition(name)
    with transaction.atomic():
        dossier = Dossier.objects.select_for_update(of=("self",)).select_related(  # not the kind, not the
            "kind", "collectivity", "affiliate").get(pk=dossier_id)  # collectivity: others lock them too
        if dossier.state not in transition.sources:
            raise _wrong_state(dossier, transition)
        _check(dossier, transition, by, reason)
        if by is not None:
            on_behalf_of = on_behalf(by, dossier.collectivity)
        fields = _move(dossier, transition, by)
        if after is not None:
            fields += after(dossier) or []
        dossier.save(update_fields=fields)
        _record([dossier], transition, by=by, reason=reason, data={dossier.pk: data}, on_behalf_of=on_behalf_of,
                cmr_event_id=cmr_event_id)
    return dossier


def apply_transition_many(dossier_ids, name, *, by, data=None) -> list[Dossier]:
    """``apply_transition`` on many dossiers at once, for the platform's batch work (the outbox's
    "transmit"): the same checks for each, one UPDATE, the timeline and audit rows written together and
    one notification task. Dossiers no longer in a source state are left as they are (another path
    moved them on); any other refusal raises and changes nothing. ``data``: dossier id -> event data.
    Returns the dossiers moved."""
    transition = _transition(name)
    with transaction.atomic():
        dossiers = [d for d in Dossier.objects.select_for_update(of=("self",))
                    .select_related("kind", "collectivity", "affiliate")
                    .filter(pk__in=list(dossier_ids)).order_by("pk") if d.state in transition.sources]
        if not dossiers:
            return []
        now = timezone.now()
        for dossier in dossiers:
            _check(dossier, transition, by, "")
            fields = _move(dossier, transition, by, now=now)
        Dossier.objects.filter(pk__in=[d.pk for d in dossiers]).update(  # the same values for all
            **{field: getattr(dossiers[0], field) for field in fields})
        _record(dossiers, transition, by=by, reason="", data=data or {})
    return dossiers


def _transition(name):
    transition = TRANSITIONS.get(name)
    if transition is None:
        raise DossierError(_("Unknown action."), code="unknown_transition")
    return transition


def check(dossier, transition, by, reason="", *, thorough=True):
    """Refuse (raise ``DossierError`` or ``PermissionDenied``) unless ``by`` may take ``transition`` on
    ``dossier`` now; nothing is written (a CMR agent's command is checked so before it is sent, a
    confirmation page before it is shown). ``thorough``: the files re-read and their signatures verified
    again (``Facts``); a confirmation page trusts the verdicts of the upload, the act itself does not."""
    if dossier.state not in transition.sources:
        raise _wrong_state(dossier, transition)
    _check(dossier, transition, by, reason, thorough=thorough)


def _wrong_state(dossier, transition) -> DossierError:
    """The refusal of a step the dossier's state does not allow: which state it is in, in which the step is
    taken."""
    return DossierError(_("“%(action)s” is not possible now: the dossier is “%(state)s”, and this step is taken "
                          "only from: %(sources)s.") % {
        "action": transition.label, "state": dossier.get_state_display(),
        "sources": get_text_list([str(s.label) for s in State if s in transition.sources])},
        code="wrong_state")


def _check(dossier, transition, by, reason, *, thorough=True):
    """Refuse (raise) unless ``by`` may take this transition on this dossier now: the dossier's guards
    first, then those about who acts, every reason at once."""
    if not may_act(by, dossier, transition):
        raise PermissionDenied(_account_refusal(transition))
    if transition.needs_reason and not (reason or "").strip():
        raise DossierError(_("Give the reason."), code="reason_required")
    if by is not None:
        officer_text(reason)
    if not transition.guards:
        return
    facts = Facts(dossier, thorough=thorough)
    refusals = _refusals(facts, transition, None, personal=False) + _refusals(facts, transition, by, personal=True)
    if refusals:
        raise DossierError(*_reasons(refusals), code=refusals[0][0].code)


def _move(dossier, transition, by, *, now=None) -> list[str]:
    """Set the new state on the instance (not saved); the fields to save."""
    dossier.previous_state = dossier.state
    dossier.state = transition.target
    dossier.state_changed_at = now or timezone.now()
    fields = ["state", "state_changed_at"]
    if transition.name in ("submit", "submit_supplement"):
        dossier.submitted_by = by
        fields.append("submitted_by")
    return fields


def _record(dossiers, transition, *, by, reason, data, on_behalf_of=None, cmr_event_id=""):
    """The timeline and audit rows of a transition just taken, and the notification queued on commit."""
    events = Event.objects.bulk_create([
        new_event(d, transition.name, by=by, text=reason.strip(), data=data.get(d.pk), from_state=d.previous_state,
                  to_state=d.state, on_behalf_of=on_behalf_of, cmr_event_id=cmr_event_id) for d in dossiers])
    AuditEvent.objects.bulk_create([
        audit_event(f"dossier.{transition.name}", actor=by, target=d, collectivity=d.collectivity,
                    on_behalf_of=on_behalf_of, data={"from": d.previous_state, "to": d.state}) for d in dossiers])
    pairs = [(d.pk, e.pk) for d, e in zip(dossiers, events, strict=True)]
    transaction.on_commit(lambda: _notify(pairs))


def _notify(pairs):
    """Queue the e-mails; a broker outage never undoes or fails the act they report."""
    try:
        notify_stage_changes.delay(pairs)
    except Exception:
        log.warning("Could not queue the notification of events %s", pairs, exc_info=True)
