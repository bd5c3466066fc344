"""Every uploaded file is scanned by ClamAV's daemon (clamd) when ``CLAMAV_URL`` is set.

``scan(data)`` streams the bytes to clamd (its INSTREAM command: length-prefixed chunks, then an
empty one) and reads its one-line answer: ``stream: OK``, or ``stream: <name> FOUND``. Anything else
(no daemon, a timeout, an error line, a stream over clamd's StreamMaxLength) raises
``ScannerUnavailable``: the upload is then refused, never let through unscanned ("fail closed").

The protocol is a dozen lines, so it is spoken here rather than through an unmaintained client
library. ``CLAMAV_URL`` is ``unix:///run/clamav/clamd.ctl`` or ``tcp://host:3310``; empty, nothing
is scanned (development; docker-compose.yml sets it to its clamav service).
"""

import logging
import socket
import struct
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

CHUNK = 64 * 1024

# What the officer reads (the signatures' report uses them too, for a refused PDF).
INFECTED_MESSAGE = _(
    "The virus scanner found a threat in this file, which was not accepted. Have the computer it "
    "comes from checked, then scan and sign the document again on a clean computer.")
UNAVAILABLE_MESSAGE = _(
    "The file could not be checked for viruses just now, so it was not accepted. Nothing is lost: "
    "upload it again in a few minutes. If this goes on, tell the DGCT.")


class ScannerUnavailable(Exception):
    """clamd could not give a verdict."""


@dataclass(frozen=True)
class Verdict:
    clean: bool
    threat: str = ""


def is_configured() -> bool:
    return bool(settings.CLAMAV_URL)


def _connect() -> socket.socket:
    url = urlsplit(settings.CLAMAV_URL)
    timeout = settings.CLAMAV_TIMEOUT
    if url.scheme == "unix":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(url.path)
        return sock
    if url.scheme == "tcp":
        return socket.create_connection((url.hostname, url.port or 3310), timeout=timeout)
    raise ScannerUnavailable(f"CLAMAV_URL must be unix:// or tcp://, not {settings.CLAMAV_URL!r}")


def scan(data: bytes) -> Verdict:
    """clamd's verdict on ``data``; ``Verdict(True)`` without asking when no scanner is configured."""
    if not is_configured():
        return Verdict(True)
    try:
        with _connect() as sock:
            sock.sendall(b"zINSTREAM\0")
            view = memoryview(data)
            for start in range(0, len(view), CHUNK):
                chunk = view[start:start + CHUNK]
                sock.sendall(struct.pack("!L", len(chunk)) + chunk)
            sock.sendall(struct.pack("!L", 0))
            answer = _read_answer(sock)
    except (OSError, ValueError) as exc:
        logger.error("virus scan failed: clamd at %s: %r", settings.CLAMAV_URL, exc)
        raise ScannerUnavailable(str(exc)) from exc
    if answer == "stream: OK":
        return Verdict(True)
    if answer.startswith("stream: ") and answer.endswith(" FOUND"):
        threat = answer[len("stream: "):-len(" FOUND")]
        logger.warning("virus scan: %s found in an upload", threat)
        return Verdict(False, threat)
    logger.error("virus scan failed: clamd answered %r", answer)
    raise ScannerUnavailable(answer)


def _read_answer(sock) -> str:
    received = b""
    while not received.endswith(b"\0"):
        part = sock.recv(4096)
        if not part:
            break
        received += part
        if len(received) > 4096:
            break
    return received.rstrip(b"\0").decode("utf-8", "replace").strip()


def ping() -> bool:
    """Whether clamd answers (for the health check)."""
    try:
        with _connect() as sock:
            sock.sendall(b"zPING\0")
            return _read_answer(sock) == "PONG"
    except (OSError, ValueError, ScannerUnavailable):
        return False
