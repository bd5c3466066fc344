"""The second factor in tests: an authenticator application's codes, computed as the phone would."""

import base64
import time

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


def code_for(device: TOTPDevice, *, at=None) -> str:
    """The six digits ``device`` accepts now (or at Unix time ``at``)."""
    return _code(device.bin_key, at, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)


def code_from_secret(secret: str, *, at=None) -> str:
    """The code an application set up from the page's printed key shows."""
    key = base64.b32decode(secret.replace(" ", "") + "=" * (-len(secret.replace(" ", "")) % 8))
    return _code(key, at)


def _code(key, at, **params) -> str:
    generator = TOTP(key, **params)
    generator.time = at if at is not None else time.time()
    return str(generator.token()).zfill(6)


def enrolled(user) -> TOTPDevice:
    """The account's confirmed application (made if it has none), its replay guard reset so that the
    current code is accepted again (a test may log the same account in twice within 30 seconds)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test phone", confirmed=True)
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1, throttling_failure_count=0,
                                                   throttling_failure_timestamp=None)
    device.refresh_from_db()
    return device
