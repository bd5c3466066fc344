"""The second factor: a TOTP application (django-otp's TOTP device) with ten single-use recovery codes
(its static device), and browsers trusted for a while (``TrustedBrowser``).

Who must pass it is the capability table's (``permissions.needs_second_factor``); an account that
enrolled of its own accord is asked too. ``SecondFactorMiddleware`` (accounts.middleware) keeps a
session that passed the password only on the pages of this module until the second factor passes.
Every step is an audit event.
"""

import base64
import secrets
from datetime import timedelta

import segno
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_otp import devices_for_user, user_has_device
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import ActivationLink, TrustedBrowser, User
from .permissions import needs_second_factor
from .services import issue_activation_link, record_audit, secret_hash

TRUST_COOKIE = "eretraite_trusted"
RECOVERY_CODES = 10
ISSUER = "e-retraite"


def is_needed(user) -> bool:
    """Whether ``user`` is asked a second factor: required for his role, or enrolled."""
    return needs_second_factor(user) or (getattr(user, "is_authenticated", False) and user_has_device(user))


def passed(user) -> bool:
    """Whether this request's session passed a second factor (django-otp's middleware tells)."""
    verified = getattr(user, "is_verified", None)
    return bool(verified and verified())


def pending(user) -> bool:
    """Between the password and the second factor: logged in, asked one, not passed yet."""
    return getattr(user, "is_authenticated", False) and not passed(user) and is_needed(user)


def is_enrolled(user) -> bool:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# --- enrolment -------------------------------------------------------------------------------------

def pending_device(user) -> TOTPDevice:
    """The TOTP device being enrolled (unconfirmed), made once and kept until confirmed: reloading the
    page shows the same secret, so an application already set up with it keeps working."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    return device or TOTPDevice.objects.create(user=user, name="e-retraite", confirmed=False)


def secret_of(device: TOTPDevice) -> str:
    """The secret as an authenticator application types it (base32, in groups of four)."""
    text = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


def qr_svg(device: TOTPDevice, user: User) -> str:
    """The enrolment's QR code (an otpauth:// URI), as an inline SVG (no script, no image file)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=4, dark="#1b2a3a", light="#ffffff",
                                                 title=f"{ISSUER}: {user.username}")


def confirm_enrolment(user: User, token: str, *, request=None, ip=None) -> list[str]:
    """Confirm the pending device with a code it shows; its recovery codes are returned (shown once).
    A previous device of the account, and its recovery codes, stop working."""
    token = _digits(token)
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("-pk").first()
        if device is None or not token or not device.verify_token(token):
            if device is not None:  # not throttled: whoever sees the enrolment page has its secret already
                device.throttle_reset()
            record_audit("second_factor.enrolment_failed", actor=user, target=user, collectivity=user.collectivity,
                         ip=ip)
            return []
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(user)
        record_audit("second_factor.enrolled", actor=user, target=user, collectivity=user.collectivity, ip=ip)
    if request is not None:
        otp_login(request, device)
    return codes


def renew_recovery_codes(user: User, *, ip=None) -> list[str]:
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        record_audit("second_factor.recovery_codes_renewed", actor=user, target=user,
                     collectivity=user.collectivity, ip=ip)
    return codes


def _new_recovery_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return [f"{code[:4]}-{code[4:]}" for code in codes]


# --- verification ----------------------------------------------------------------------------------

def verify(request, token: str, *, ip=None):
    """Check a code from the application, or a recovery code (spent on use); on success the session
    passes the second factor. Returns the device that accepted it, or None. django-otp throttles each
    device after failures (the wait doubles each time)."""
    user = request.user
    digits, recovery = _digits(token), _recovery(token)
    device = None
    with transaction.atomic():
        for candidate in devices_for_user(user, for_verify=True):
            if isinstance(candidate, TOTPDevice) and digits and candidate.verify_token(digits):
                device = candidate
                break
            if isinstance(candidate, StaticDevice) and recovery and candidate.verify_token(recovery):
                device = candidate
                break
    if device is None:
        record_audit("second_factor.failed", actor=user, target=user, collectivity=user.collectivity, ip=ip)
        return None
    otp_login(request, device)
    record_audit("second_factor.recovery_code_used" if isinstance(device, StaticDevice) else "second_factor.passed",
                 actor=user, target=user, collectivity=user.collectivity, ip=ip,
                 data={"recovery_codes_left": recovery_codes_left(user)} if isinstance(device, StaticDevice) else None)
    return device


def is_recovery(device) -> bool:
    return isinstance(device, StaticDevice)


def throttled_for(user) -> int:
    """Seconds before the account's application may be tried again after failures (0: now)."""
    now, wait = timezone.now(), 0
    for device in TOTPDevice.objects.devices_for_user(user, confirmed=True):
        allowed, data = device.verify_is_allowed()
        if not allowed and data and data.get("locked_until"):
            wait = max(wait, int((data["locked_until"] - now).total_seconds()) + 1)
    return wait


def _digits(token) -> str:
    """The six digits of an application's code, however typed (spaces, Arabic-Indic digits)."""
    digits = "".join(str(int(ch)) for ch in str(token or "") if ch.isdecimal())
    return digits if len(digits) == 6 else ""


def _recovery(token) -> str:
    text = "".join(ch for ch in str(token or "").lower() if ch.isalnum() and ch.isascii())
    return text if len(text) == 8 else ""


# --- trusted browsers ------------------------------------------------------------------------------

def trust_browser(request, response, *, ip=None) -> TrustedBrowser:
    """Trust this browser for SECOND_FACTOR_TRUST_DAYS: a cookie with a random token."""
    token = secrets.token_urlsafe(32)
    days = settings.SECOND_FACTOR_TRUST_DAYS
    browser = TrustedBrowser.objects.create(
        user=request.user, token_hash=secret_hash(token), label=request.headers.get("User-Agent", "")[:200],
        expires_at=timezone.now() + timedelta(days=days))
    response.set_cookie(TRUST_COOKIE, f"{request.user.pk}:{token}", max_age=days * 86400, httponly=True,
                        secure=request.is_secure() or settings.SESSION_COOKIE_SECURE, samesite="Lax")
    record_audit("second_factor.browser_trusted", actor=request.user, target=request.user,
                 collectivity=request.user.collectivity, ip=ip, data={"days": days})
    return browser


def pass_by_trusted_browser(request) -> bool:
    """If this browser's cookie names a trusted browser of the session's account, still valid, the
    session passes the second factor (with the account's application as its device)."""
    user_id, _sep, token = request.COOKIES.get(TRUST_COOKIE, "").partition(":")
    if not token or user_id != str(request.user.pk):
        return False
    now = timezone.now()
    browser = (TrustedBrowser.objects.filter(user=request.user, token_hash=secret_hash(token), expires_at__gt=now)
               .first())
    device = TOTPDevice.objects.devices_for_user(request.user, confirmed=True).first()
    if browser is None or device is None:
        return False
    TrustedBrowser.objects.filter(pk=browser.pk).update(last_used_at=now)
    otp_login(request, device)
    return True


def revoke_browser(user: User, pk, *, ip=None) -> int:
    deleted, _ = TrustedBrowser.objects.filter(user=user, pk=pk).delete()
    if deleted:
        record_audit("second_factor.browser_revoked", actor=user, target=user, collectivity=user.collectivity, ip=ip)
    return deleted


# --- reset -----------------------------------------------------------------------------------------

def reset(user: User, *, by, ip=None) -> None:
    """Remove the account's application, recovery codes and trusted browsers: it enrols again at its
    next login (a manager for his sub-account, the DGCT for anyone, after a lost phone)."""
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=None):
            device.delete()
        TrustedBrowser.objects.filter(user=user).delete()
        record_audit("second_factor.reset", actor=by, target=user, collectivity=user.collectivity, ip=ip)


def reset_account(user: User, *, by, ip=None) -> None:
    """The account's manager (for a sub-account) or the DGCT resets it: its password stops working,
    its second factor, trusted browsers and API tokens are removed, every session ends, and a link to
    choose a new password is e-mailed to it. For a forgotten password with a lost phone, or a doubt."""
    with transaction.atomic():
        user.set_unusable_password()
        user.save(update_fields=["password"])
        reset(user, by=by, ip=ip)
        from .api_tokens import revoke_all

        revoke_all(user, by=by, ip=ip)
        record_audit("account.reset", actor=by, target=user, collectivity=user.collectivity, ip=ip)
        issue_activation_link(user, by=by, purpose=ActivationLink.Purpose.RESET)
