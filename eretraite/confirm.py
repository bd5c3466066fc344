"""Acts that ask for confirmation: one table (``ACTS``) of the destructive or legal acts of the pages and
the admin, and the confirmation page they all render.

An act's form posts to the act itself. Unless the request carries ``confirmed``, the view does not call
the service: it answers ``ask(...)``, a page that names what will happen (which dossier, which
affiliate, which stage or account, what it engages, whether it can be undone), with a Confirm button
that posts the same fields again with ``confirmed``, and a way back. Nothing of it needs a script (the
Content-Security-Policy allows only this site's, and a server-side step works in every browser). An act
absent from the table is taken at once. The API is not concerned: its callers confirm by calling.

The names are those of the acts' audit events where they have one (``dossier.certify``...).
"""

from dataclasses import dataclass

from django.shortcuts import render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

CONFIRMED = "confirmed"  # the field the Confirm button adds


@dataclass(frozen=True)
class Act:
    title: str  # the page's question, naming what it is about (``%(...)s`` of the page's ``params``)
    consequence: str  # what the act does and engages, and whether it can be undone
    button: str  # the Confirm button
    danger: bool = True  # it ends or deletes something (a red button); else a commitment (blue)


ACTS = {
    # the dossier's workflow (``dossiers.workflow``: each transition named here asks before it is taken)
    "dossier.certify": Act(
        _("Certify the dossier of %(affiliate)s?"),
        _("By certifying, you attest as an officer of the collectivity that the dossier is complete and that "
          "its documents are authentic. The transmittal slip is sealed and the dossier leaves for the CMR: it "
          "can then no longer be changed or withdrawn."),
        _("Yes, certify the dossier"), danger=False),
    "dossier.cancel": Act(
        _("Cancel the dossier of %(affiliate)s?"),
        _("The dossier is closed for good: it cannot be reopened and nothing of it is sent to the CMR. To start "
          "again, open a new dossier from the affiliate's page."),
        _("Yes, cancel the dossier")),
    "dossier.liquidate": Act(
        _("Liquidate the pension of %(affiliate)s?"),
        _("The liquidation is sent to the CMR back office with the figures below, as the CMR's decision on the "
          "pension. Once the back office confirms it, the collectivity is told and it cannot be undone from the "
          "portal."),
        _("Yes, send the liquidation"), danger=False),
    "dossier.pay": Act(
        _("Put the pension of %(affiliate)s in payment?"),
        _("The order is sent to the CMR back office. Once it confirms, the pension is paid and the dossier is "
          "closed: it cannot be undone from the portal."),
        _("Yes, put the pension in payment"), danger=False),
    "dossier.reject": Act(
        _("Reject the dossier of %(affiliate)s?"),
        _("The rejection is sent to the CMR back office with the reason below. Once it confirms, the dossier is "
          "closed for good and the collectivity is told why: it cannot be undone from the portal."),
        _("Yes, reject the dossier")),
    # the dossier's documents
    "dossier.remove_document": Act(
        _("Remove “%(document)s” from the dossier?"),
        _("The file is deleted from the dossier and cannot be recovered: to put it back, it must be uploaded "
          "again."),
        _("Yes, remove the document")),
    # the manager's team
    "account.disable": Act(
        _("Disable the account of %(name)s?"),
        _("From now on, %(name)s can no longer log in, the open sessions of the account end and its API tokens "
          "are refused. The dossiers it prepared stay with the collectivity. You can enable the account again "
          "later."),
        _("Yes, disable the account")),
    "account.reset": Act(
        _("Reset the account of %(name)s?"),
        _("The password, the authenticator application and the trusted browsers of %(name)s stop working at "
          "once, and every session of the account ends. A link to choose a new password is e-mailed to "
          "%(email)s."),
        _("Yes, reset the account")),
    # the DGCT's admin actions (Django's own page confirms a deletion; these confirm here)
    "admin.reset_accounts": Act(
        _("Reset the selected accounts?"),
        _("For each account below, the password, the authenticator application and the trusted browsers stop "
          "working at once and every session ends; a link to choose a new password is e-mailed to it. Your own "
          "account and the accounts with no e-mail address are left as they are."),
        _("Yes, reset the accounts")),
    "admin.revoke_tokens": Act(
        _("Revoke the selected API tokens?"),
        _("Each token below stops working at once: the software that uses it is refused until it is given a "
          "new one. A revoked token cannot be restored."),
        _("Yes, revoke the tokens")),
}


def needs_confirmation(act: str) -> bool:
    return act in ACTS


def confirmed(request) -> bool:
    return bool(request.POST.get(CONFIRMED))


def pending(request, act: str) -> bool:
    """Whether ``act`` asks for a confirmation that this request does not carry yet."""
    return needs_confirmation(act) and not confirmed(request)


def carried(request) -> list[tuple[str, str]]:
    """The posted fields the Confirm button posts again: all but the CSRF token (the page has its own)
    and files (a browser cannot post a file it did not choose: the page asks for it again)."""
    return [(name, value) for name, values in request.POST.lists() if name not in ("csrfmiddlewaretoken", CONFIRMED)
            for value in values]


def _texts(act, params):
    entry = ACTS[act]
    params = params or {}
    return {"title": str(entry.title) % params, "consequence": str(entry.consequence) % params,
            "button": entry.button, "danger": entry.danger}


def ask(request, act: str, *, cancel_url: str, facts=(), params=None, lines=(), lines_title="", file_field=None):
    """The confirmation page of ``act``: ``facts`` are (label, value) pairs naming what it is about, ``lines``
    what it carries (the documents a certification sends...); Confirm posts the same fields to the same URL
    with ``confirmed``, and ``cancel_url`` leads back. ``file_field``: (name, label) of a file the act needs,
    chosen again on this page."""
    return render(request, "includes/confirm.html", {
        "act": act, **_texts(act, params), "facts": list(facts), "lines": list(lines), "lines_title": lines_title,
        "fields": carried(request), "action": request.get_full_path(), "cancel_url": cancel_url,
        "confirmed_field": CONFIRMED, "file_field": file_field,
    })


def ask_admin(model_admin, request, act: str, queryset, *, lines, params=None):
    """The confirmation page of an admin action over ``queryset``, in the admin's own look: ``lines`` name
    each object it will touch; Confirm posts the action again for the same selection with ``confirmed``."""
    opts = model_admin.model._meta
    return TemplateResponse(request, "admin/confirm_action.html", {
        **model_admin.admin_site.each_context(request), "act": act, **_texts(act, params),
        "opts": opts, "action": request.POST.get("action", ""), "queryset": queryset, "lines": list(lines),
        "confirmed_field": CONFIRMED,
        "changelist_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
    })
