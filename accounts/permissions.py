"""Who may do what: for each role, its scope and its capabilities. One table, asked by every view
(``@requires``), API view (``HasCapability``), template (``{% if user|can:"..." %}``), service and
selector (``can``), and by the navigation bar (``NAVIGATION``). Adding a role is one row here (and
its tests); nothing else compares role names.

Scope (which collectivities an account sees) is applied by ``accounts.selectors.visible_collectivities``,
the one scoping selector, from the ``scope`` of the account's row.
"""

import enum
from dataclasses import dataclass, field
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from .models import User


class Capability(enum.StrEnum):
    CONSULT_AFFILIATES = "consult_affiliates"  # search the registry, read a situation
    SEE_DOSSIERS = "see_dossiers"  # read dossiers, their documents, timelines and slips
    PREPARE_DOSSIERS = "prepare_dossiers"  # open, upload, submit, observe, take in hand
    CERTIFY_DOSSIERS = "certify_dossiers"
    REQUEST_CORRECTIONS = "request_corrections"  # propose a correction of the registry
    ANSWER_CORRECTIONS = "answer_corrections"  # decide correction requests (the CMR)
    ACT_ON_STAGES = "act_on_stages"  # the CMR's liquidation stages and document requests
    FOLLOW_TRANSMISSIONS = "follow_transmissions"  # see and retry transmissions to the CMR
    MANAGE_TEAM = "manage_team"  # create, limit and disable sub-accounts
    ACT_FOR_COMMUNE = "act_for_commune"  # a provincial office acting for a commune of its province
    ADMINISTER = "administer"  # the Django admin (the DGCT)
    AUDIT_READS = "audit_reads"  # the law 09-08 trail: who saw which personal data (a privacy officer)
    ASK_SUPPORT = "ask_support"  # write to the support from the help page, read the answers (support app)
    ANSWER_SUPPORT = "answer_support"  # see every support request and answer it (the CMR, the DGCT)


# What a read-only API token keeps of its account's capabilities (accounts.api_tokens).
READS = frozenset({Capability.CONSULT_AFFILIATES, Capability.SEE_DOSSIERS, Capability.FOLLOW_TRANSMISSIONS})


class Scope(enum.StrEnum):
    OWN = "own"  # the account's collectivity
    PROVINCE = "province"  # the communes of the account's prefecture or province
    NATIONAL = "national"  # every collectivity
    NONE = "none"


C = Capability


@dataclass(frozen=True)
class Rule:
    scope: Scope
    capabilities: frozenset = frozenset()
    # Capabilities a sub-account holds only when its manager granted them: capability -> the
    # account's flags, any one of which grants it.
    granted: dict = field(default_factory=dict)
    # Whether the role must pass a second factor (accounts.second_factor). Whoever may certify must too.
    second_factor: bool = True

    def keeping(self, capabilities) -> "Rule":
        """This rule with only ``capabilities`` left (what a read-only API token keeps)."""
        return Rule(self.scope, self.capabilities & capabilities,
                    {c: flags for c, flags in self.granted.items() if c in capabilities}, self.second_factor)


ROLES = {
    User.Role.MANAGER: Rule(Scope.OWN, frozenset({
        C.CONSULT_AFFILIATES, C.SEE_DOSSIERS, C.PREPARE_DOSSIERS, C.CERTIFY_DOSSIERS, C.REQUEST_CORRECTIONS,
        C.MANAGE_TEAM, C.ASK_SUPPORT})),
    User.Role.AGENT: Rule(Scope.OWN, frozenset({C.ASK_SUPPORT}), second_factor=False, granted={
        C.CONSULT_AFFILIATES: ("can_consult_affiliates",),
        C.REQUEST_CORRECTIONS: ("can_consult_affiliates",),
        C.SEE_DOSSIERS: ("can_prepare_dossiers", "can_certify_dossiers"),
        C.PREPARE_DOSSIERS: ("can_prepare_dossiers",),
        C.CERTIFY_DOSSIERS: ("can_certify_dossiers",),
    }),
    # It helps communes with no internet copy, sign and upload; certification stays theirs, but for the
    # office's certifier (an account the DGCT grants it), whom a single-officer commune may name the second
    # certifier of a dossier (dossiers.transitions: he certifies that dossier only).
    User.Role.PROVINCIAL_OFFICE: Rule(Scope.PROVINCE, frozenset({
        C.CONSULT_AFFILIATES, C.SEE_DOSSIERS, C.PREPARE_DOSSIERS, C.REQUEST_CORRECTIONS, C.ACT_FOR_COMMUNE,
        C.ASK_SUPPORT}),
        granted={C.CERTIFY_DOSSIERS: ("can_certify_dossiers",)}),
    # The CMR keeps the registry and liquidates: it reads everything that reached it and acts on stages.
    User.Role.CMR_AGENT: Rule(Scope.NATIONAL, frozenset({
        C.CONSULT_AFFILIATES, C.SEE_DOSSIERS, C.ANSWER_CORRECTIONS, C.ACT_ON_STAGES, C.FOLLOW_TRANSMISSIONS,
        C.ASK_SUPPORT, C.ANSWER_SUPPORT}),
        granted={C.AUDIT_READS: ("is_privacy_officer",)}),
    # The ministry provisions accounts and follows the gateway; it does not read personal files.
    User.Role.DGCT_ADMIN: Rule(Scope.NATIONAL, frozenset({C.FOLLOW_TRANSMISSIONS, C.ADMINISTER, C.ASK_SUPPORT,
                                                         C.ANSWER_SUPPORT}),
                               granted={C.AUDIT_READS: ("is_privacy_officer",)}),
}
NOBODY = Rule(Scope.NONE)


def rule_of(user) -> Rule:
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return NOBODY
    rule = ROLES.get(getattr(user, "role", None), NOBODY)
    if getattr(user, "is_superuser", False):
        rule = Rule(Scope.NATIONAL, rule.capabilities | {C.ADMINISTER, C.FOLLOW_TRANSMISSIONS}, rule.granted)
    token = getattr(user, "api_token", None)  # a request made with an API token holds no more than it
    if token is not None and token.read_only:
        rule = rule.keeping(READS)
    return rule


def scope_of(user) -> Scope:
    return rule_of(user).scope


def can(user, capability) -> bool:
    """Whether ``user`` (an account, anonymous, or None) holds ``capability``."""
    rule = rule_of(user)
    capability = Capability(capability)
    if capability in rule.capabilities:
        return True
    return any(getattr(user, flag, False) for flag in rule.granted.get(capability, ()))


def needs_second_factor(user) -> bool:
    """Whether ``user`` must pass a second factor after his password: by role (managers, provincial
    offices, the CMR, the DGCT), for whoever may certify a dossier, and for any staff account."""
    if not getattr(user, "is_authenticated", False):
        return False
    return (rule_of(user).second_factor or can(user, C.CERTIFY_DOSSIERS) or getattr(user, "is_staff", False)
            or getattr(user, "is_superuser", False))


def capabilities_of(user) -> set[Capability]:
    return {c for c in Capability if can(user, c)}


def requires(*capabilities, hide=False):
    """A view decorator: logged in, and holding one of ``capabilities``; otherwise 403 (a feature the
    account may not use), or 404 with ``hide`` (a read: what the account may not read does not exist
    for it, as anything outside its scope)."""
    def decorate(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not any(can(request.user, c) for c in capabilities):
                if hide:
                    raise Http404
                raise PermissionDenied(_("Your account may not use this page."))
            return view(request, *args, **kwargs)
        return wrapper
    return decorate


class HasCapability(BasePermission):
    """The API's permission: the view's ``required_capabilities`` ({action: capability, or "*"}) must
    be held; else 403, or 404 when the view ``hides`` what it serves (reads of dossiers)."""

    def has_permission(self, request, view):
        if not getattr(request.user, "is_authenticated", False):
            return False  # 401/403 from the authentication classes
        token = getattr(request.user, "api_token", None)
        if token is not None and token.read_only and request.method not in SAFE_METHODS:
            self.message = _("This API token is read-only.")
            return False
        required = getattr(view, "required_capabilities", {})
        capability = required.get(getattr(view, "action", None), required.get("*"))
        if capability is not None and not can(request.user, capability):
            if getattr(view, "hides", False):
                raise Http404
            return False
        return True


# Who sees a navigation entry even logged out (the help page: the CMR's support line is for everyone).
EVERYONE = "everyone"

# The navigation bar: label, URL name, the key of the current page, who sees it (None: everyone
# logged in; EVERYONE: logged out too), and who does not although he could (the CMR works from its
# queue, not the portfolio).
NAVIGATION = [
    (_("Home"), "home", "home", None, None),
    (_("Affiliates"), "affiliates:search", "search", C.CONSULT_AFFILIATES, None),
    (_("Queue"), "dossiers:queue", "queue", C.ACT_ON_STAGES, None),
    (_("Dossiers"), "dossiers:list", "list", C.SEE_DOSSIERS, C.ACT_ON_STAGES),
    (_("Corrections"), "affiliates:corrections", "corrections", C.ANSWER_CORRECTIONS, None),
    # A collectivity's own correction requests, their status and the CMR's answers (same page).
    (_("Corrections"), "affiliates:corrections", "corrections", C.REQUEST_CORRECTIONS, C.ANSWER_CORRECTIONS),
    (_("Transmissions"), "cmr:transmissions", "transmissions", C.FOLLOW_TRANSMISSIONS, None),
    (_("Team"), "team", "team", C.MANAGE_TEAM, None),
    (_("Privacy"), "privacy:trail", "trail", C.AUDIT_READS, None),
    (_("Choose the commune"), "act_for", "act_for", C.ACT_FOR_COMMUNE, None),
    (_("Support requests"), "support:requests", "requests", C.ANSWER_SUPPORT, None),
    (_("Administration"), "admin:index", "admin", C.ADMINISTER, None),
    (_("Help"), "support:help", "help", EVERYONE, None),
]


def navigation_for(user) -> list[tuple]:
    """(label, URL name, key) of what ``user`` may use; logged out, only what is for everyone."""
    if not getattr(user, "is_authenticated", False):
        return [(label, url_name, key) for label, url_name, key, needed, _unless in NAVIGATION
                if needed == EVERYONE]
    return [(label, url_name, key) for label, url_name, key, needed, unless in NAVIGATION
            if (needed in (None, EVERYONE) or can(user, needed)) and not (unless is not None and can(user, unless))]


def signing_roles() -> list[str]:
    """The roles whose accounts sign their own collectivity's documents (its officers)."""
    return [role for role, rule in ROLES.items() if rule.scope == Scope.OWN]
