"""The dossier workflow: every state, every transition, who may take it and what guards it.

One table, read by the engine that applies transitions and implements each guard named here
(``dossiers.transitions``), by the pages (which actions to offer, the next step) and by the API. Pure
data: no ORM here.

    draft ──submit──> awaiting_certification ──certify──> certified ──(outbox)──> transmitted
      ^                    │ return                                                  │ CMR events
      └────────────────────┘                                                         v
    received ─> under_review ─> documents_requested ─(supplement, certify)─> under_review
             ─> liquidated ─> in_payment (closed)          rejected (closed)     cancelled (from draft)
"""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

# The longest reason, observation or request an officer may write (forms, serializers and services).
TEXT_MAX_LENGTH = 4000


class State(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AWAITING_CERTIFICATION = "awaiting_certification", _("Awaiting certification")
    CERTIFIED = "certified", _("Certified")
    TRANSMITTED = "transmitted", _("Transmitted to the CMR")
    RECEIVED = "received", _("Received by the CMR")
    UNDER_REVIEW = "under_review", _("Under review")
    DOCUMENTS_REQUESTED = "documents_requested", _("Documents requested")
    LIQUIDATED = "liquidated", _("Liquidated")
    IN_PAYMENT = "in_payment", _("In payment")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


CLOSED = frozenset({State.IN_PAYMENT, State.REJECTED, State.CANCELLED})
# States in which the collectivity may add, replace or remove documents.
EDITABLE = frozenset({State.DRAFT, State.DOCUMENTS_REQUESTED})
# The collectivity's work before a certification (the first, or a supplement's the CMR asked for): when a
# second certifier is named, and when a commune may delegate the dossier to its provincial office (which
# returns it in the same state).
BEFORE_CERTIFICATION = frozenset({State.DRAFT, State.AWAITING_CERTIFICATION, State.DOCUMENTS_REQUESTED})
# States the CMR reports by callback (its liquidation stages).
CMR_STAGES = frozenset({State.RECEIVED, State.UNDER_REVIEW, State.DOCUMENTS_REQUESTED, State.LIQUIDATED,
                        State.IN_PAYMENT, State.REJECTED})


class Actor(models.TextChoices):
    PREPARER = "preparer", _("an officer who may prepare dossiers")
    CERTIFIER = "certifier", _("an officer who may certify dossiers")
    CMR = "cmr", _("the CMR")
    SYSTEM = "system", _("the platform")


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset
    target: State
    actor: Actor
    label: str
    needs_reason: bool = False
    guards: tuple = ()
    # A CMR stage a CMR agent takes in the portal: sent to the back office as a command, applied when
    # it confirms (``cmr.outbox.enqueue_command``). The others of the CMR only the back office reports.
    commanded: bool = False
    # What the page says once it is taken by hand: what happened, in a sentence (never the button's words).
    done: str = ""


def _t(name, sources, target, actor, label, **kw):
    return Transition(name, frozenset(sources), target, actor, label, **kw)


# Those taken by hand that end a dossier or engage the officer ask for a confirmation first: which, and what
# the confirmation page says, is ``eretraite.confirm.ACTS`` (``dossier.<name>``), the one table of such acts.
TRANSITIONS = {t.name: t for t in [
    # While a dossier is delegated to the provincial office (``Dossier.delegated_to``), no officer takes
    # a step of the workflow: the office checks it and returns it to the commune first (``not_delegated``).
    _t("submit", [State.DRAFT], State.AWAITING_CERTIFICATION, Actor.PREPARER, _("Submit for certification"),
       guards=("not_delegated", "has_documents"),
       done=_("The dossier was submitted for certification: an officer who may certify it can now do so.")),
    _t("submit_supplement", [State.DOCUMENTS_REQUESTED], State.AWAITING_CERTIFICATION, Actor.PREPARER,
       _("Submit the supplement for certification"), guards=("not_delegated", "requested_documents_present"),
       done=_("The supplement was submitted for certification: an officer who may certify it can now do so.")),
    _t("return", [State.AWAITING_CERTIFICATION], State.DRAFT, Actor.CERTIFIER, _("Return to the preparer"),
       needs_reason=True, guards=("not_delegated", "office_certifies_when_named"),
       done=_("The dossier was returned to its preparer with your reason: it is a draft again.")),
    # Four eyes: never the submitter; a provincial office only as the second certifier the commune named.
    _t("certify", [State.AWAITING_CERTIFICATION], State.CERTIFIED, Actor.CERTIFIER, _("Certify"),
       guards=("not_delegated", "complete", "signatures_accepted", "certifier_is_not_preparer",
               "office_certifies_when_named"),
       done=_("The dossier was certified and queued for sending to the CMR.")),
    _t("cancel", [State.DRAFT], State.CANCELLED, Actor.PREPARER, _("Cancel the dossier"), needs_reason=True,
       guards=("not_delegated",), done=_("The dossier was cancelled: it is closed for good.")),
    _t("transmit", [State.CERTIFIED], State.TRANSMITTED, Actor.SYSTEM, _("Transmitted to the CMR")),
    # The back office may report receipt before the sender has recorded its answer: from certified too.
    _t("receive", [State.TRANSMITTED, State.CERTIFIED], State.RECEIVED, Actor.CMR, _("Received")),
    _t("review", [State.RECEIVED, State.TRANSMITTED], State.UNDER_REVIEW, Actor.CMR, _("Start the review"),
       commanded=True, done=_("The start of the review was sent to the CMR: the dossier is under review once "
                              "the CMR confirms.")),
    _t("request_documents", [State.RECEIVED, State.UNDER_REVIEW], State.DOCUMENTS_REQUESTED, Actor.CMR,
       _("Request documents"), needs_reason=True, commanded=True,
       done=_("The request for documents was sent to the CMR: the collectivity is asked for them once the CMR "
              "confirms.")),
    _t("liquidate", [State.UNDER_REVIEW], State.LIQUIDATED, Actor.CMR, _("Liquidate"), commanded=True,
       done=_("The liquidation was sent to the CMR with the pension's figures: the dossier is liquidated once "
              "the CMR confirms.")),
    _t("pay", [State.LIQUIDATED], State.IN_PAYMENT, Actor.CMR, _("Put in payment"), commanded=True,
       done=_("The order to pay the pension was sent to the CMR: the dossier is in payment once the CMR "
              "confirms.")),
    _t("reject", [State.RECEIVED, State.UNDER_REVIEW, State.DOCUMENTS_REQUESTED], State.REJECTED, Actor.CMR,
       _("Reject"), needs_reason=True, commanded=True,
       done=_("The rejection and its reason were sent to the CMR: the dossier is rejected once the CMR "
              "confirms.")),
]}

# A CMR stage report names the state it reached; this is the transition that reaches it.
STAGE_TRANSITION = {
    State.RECEIVED: "receive",
    State.UNDER_REVIEW: "review",
    State.DOCUMENTS_REQUESTED: "request_documents",
    State.LIQUIDATED: "liquidate",
    State.IN_PAYMENT: "pay",
    State.REJECTED: "reject",
}


def transitions_from(state) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if state in t.sources]


def can_reach(state, transition_name) -> bool:
    t = TRANSITIONS.get(transition_name)
    return t is not None and state in t.sources
