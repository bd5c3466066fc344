"""The HTTP client of the CMR back office, as the outbox uses it.

Every failure is a typed exception that tells the outbox what to do:

- ``CmrRetryableError``: try again later (network error, timeout, 5xx, 408/425/429, an answer that
  is not JSON or lacks the reference — the back office may have stored the dossier, and the replay
  under the same Idempotency-Key will get the first answer);
- ``CmrPermanentError``: retrying the same request cannot succeed (4xx: bad manifest or digest,
  unknown reference, refused credentials); the transmission is failed and shown to staff;
- ``CmrConflictError`` (a permanent error): the Idempotency-Key was already used for different
  content (409) — the outbox sent something else under the same key, which needs a human.

Nothing here touches the database; the outbox decides what to record.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import urllib3
from django.conf import settings

from . import rules

RETRYABLE_STATUSES = frozenset({408, 425, 429})
REFERENCE_MAX_LENGTH = 64  # the portal's column (Transmission.cmr_reference, Dossier.cmr_reference)


class CmrError(Exception):
    retryable = False

    def __init__(self, message: str, *, status: int | None = None, body: str = "",
                 code: str = ""):
        super().__init__(message)
        self.status = status
        self.body = body[:2000]
        self.code = code


class CmrRetryableError(CmrError):
    retryable = True


class CmrPermanentError(CmrError):
    retryable = False


class CmrConflictError(CmrPermanentError):
    """409: this Idempotency-Key already carried different content."""


@dataclass(frozen=True)
class DeliveryReceipt:
    reference: str
    replayed: bool
    status: int
    body: dict[str, Any]


class _Answer:
    """What the transport keeps of an HTTP answer (the parts ``requests`` would offer)."""

    def __init__(self, response: urllib3.BaseHTTPResponse):
        self.status_code = response.status
        self.headers = response.headers
        self.content = response.data or b""

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.content)


class CmrClient:
    """Over urllib3 directly: a pool of kept-alive connections, no per-request session machinery (the
    outbox posts a megabyte per dossier; ``requests`` spent about as much CPU as the rest of a send)."""

    def __init__(self, base_url: str | None = None, *, connect_timeout: float | None = None,
                 read_timeout: float | None = None):
        self.base_url = (base_url or settings.CMR_BASE_URL).rstrip("/")
        self.timeout = urllib3.Timeout(
            connect=connect_timeout if connect_timeout is not None else settings.CMR_CONNECT_TIMEOUT,
            read=read_timeout if read_timeout is not None else settings.CMR_READ_TIMEOUT,
        )
        headers = {"User-Agent": "e-retraite"}
        # The portal authenticates to the back office: a bearer token, and/or a client certificate
        # (mutual TLS) when CMR_CLIENT_CERT is set.
        if settings.CMR_API_TOKEN:
            headers["Authorization"] = f"Bearer {settings.CMR_API_TOKEN}"
        tls = {}
        if settings.CMR_CLIENT_CERT:
            tls = {"cert_file": settings.CMR_CLIENT_CERT, "key_file": settings.CMR_CLIENT_KEY or None}
        if settings.CMR_CA_BUNDLE:
            tls["ca_certs"] = settings.CMR_CA_BUNDLE
        # The back office is reached directly, or through the proxy CMR_HTTP_PROXY names: not through
        # whatever HTTP(S)_PROXY the process happens to inherit.
        if settings.CMR_HTTP_PROXY:
            self.http = urllib3.ProxyManager(settings.CMR_HTTP_PROXY, headers=headers, retries=False, **tls)
        else:
            self.http = urllib3.PoolManager(headers=headers, retries=False, **tls)

    # --- transport -----------------------------------------------------------------------------

    def _request(self, method: str, path: str, *, fields=None, params=None, headers=None, payload=None) -> _Answer:
        url = f"{self.base_url}{path}"
        headers = {**self.http.headers, **(headers or {})}  # urllib3 sends the pool's only when given none
        body = None
        if fields is not None:
            body, headers["Content-Type"] = urllib3.encode_multipart_formdata(fields)
        elif payload is not None:
            body = json.dumps(payload, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        try:
            response = self.http.request(method, url, body=body, fields=params, headers=headers,
                                         timeout=self.timeout, redirect=False)
        except (urllib3.exceptions.NewConnectionError,  # before TimeoutError: urllib3 makes it a subclass
                urllib3.exceptions.ProtocolError, urllib3.exceptions.MaxRetryError) as exc:
            raise CmrRetryableError(f"{method} {path}: connection failed ({exc})",
                                    code="connection") from exc
        except urllib3.exceptions.TimeoutError as exc:
            raise CmrRetryableError(f"{method} {path}: timed out ({exc})", code="timeout") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise CmrRetryableError(f"{method} {path}: {exc}", code="transport") from exc
        answer = _Answer(response)
        if answer.status_code >= 400:
            self._raise_for_status(method, path, answer)
        return answer

    @staticmethod
    def _raise_for_status(method: str, path: str, response: _Answer) -> None:
        status = response.status_code
        text = response.text
        message = f"{method} {path}: HTTP {status}"
        try:
            detail = response.json()
            if isinstance(detail, dict) and detail.get("message"):
                message += f" ({detail['message']}"
                if detail.get("errors"):
                    message += ": " + "; ".join(map(str, detail["errors"]))[:500]
                message += ")"
        except ValueError:
            pass
        if status >= 500 or status in RETRYABLE_STATUSES:
            raise CmrRetryableError(message, status=status, body=text, code=f"http_{status}")
        if status == 409:
            raise CmrConflictError(message, status=status, body=text, code="conflict")
        raise CmrPermanentError(message, status=status, body=text, code=f"http_{status}")

    @staticmethod
    def _json(method: str, path: str, response: _Answer) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            raise CmrRetryableError(
                f"{method} {path}: HTTP {response.status_code} answer is not JSON",
                status=response.status_code, body=response.text, code="not_json") from None
        if not isinstance(data, dict):
            raise CmrRetryableError(f"{method} {path}: the JSON answer is not an object",
                                    status=response.status_code, body=response.text,
                                    code="not_json")
        return data

    # --- the API -------------------------------------------------------------------------------

    def send_dossier(self, *, idempotency_key: str, manifest: dict[str, Any],
                     files: Iterable[tuple[str, bytes]]) -> DeliveryReceipt:
        """Deliver a dossier (or a supplement): the manifest and its PDFs, under one key.

        ``files``: (file name as in the manifest, content). A replay of the same key and content
        gets the first receipt (``replayed`` true): the outbox treats both as delivered.
        """
        parts: list[tuple[str, tuple]] = [
            (rules.MANIFEST_FIELD, (None, json.dumps(manifest, ensure_ascii=False).encode(),
                                    "application/json")),
        ]
        parts += [(rules.FILE_FIELD, (name, content, "application/pdf")) for name, content in files]
        response = self._request("POST", "/dossiers", fields=parts,
                                 headers={"Idempotency-Key": idempotency_key})
        data = self._json("POST", "/dossiers", response)
        reference = data.get("reference")
        if not 200 <= response.status_code < 300:
            raise CmrRetryableError(f"POST /dossiers: HTTP {response.status_code} is not a receipt",
                                    status=response.status_code, body=response.text, code="not_a_receipt")
        if not isinstance(reference, str) or not reference.strip():
            raise CmrRetryableError("POST /dossiers: the answer carries no CMR reference",
                                    status=response.status_code, body=response.text,
                                    code="no_reference")
        if len(reference.strip()) > REFERENCE_MAX_LENGTH:
            raise CmrRetryableError(f"POST /dossiers: the CMR reference is longer than {REFERENCE_MAX_LENGTH}",
                                    status=response.status_code, body=response.text, code="bad_reference")
        return DeliveryReceipt(
            reference=reference.strip(),
            replayed=response.headers.get("Idempotent-Replayed", "").lower() == "true",
            status=response.status_code,
            body=data,
        )

    def command_stage(self, reference: str, *, idempotency_key: str, stage: str,
                      details: dict[str, Any]) -> rules.StageEvent:
        """Have the back office move a dossier to ``stage`` (a CMR agent's act in the portal), once per
        key. Returns the stage event it recorded (validated as a callback's), which its callback will
        carry again. ``CmrConflictError``: the dossier cannot take the stage now (its current stage is
        in the message), or the key was used for another command."""
        path = f"/dossiers/{reference}/stages"
        response = self._request("POST", path, payload={"stage": stage, "details": details},
                                 headers={"Idempotency-Key": idempotency_key})
        data = self._json("POST", path, response)
        if not 200 <= response.status_code < 300 or not isinstance(data.get("event"), dict):
            raise CmrRetryableError(f"POST {path}: HTTP {response.status_code} carries no stage event",
                                    status=response.status_code, body=response.text, code="no_event")
        try:
            return rules.parse_event(json.dumps(data["event"]).encode())
        except rules.CallbackRejected as exc:
            raise CmrRetryableError(f"POST {path}: the stage event is malformed ({exc.code})",
                                    status=response.status_code, body=response.text, code="bad_event") from exc

    def get_stages(self, reference: str) -> dict[str, Any]:
        """A dossier's current stage and history, for the reconciliation of lost callbacks."""
        path = f"/dossiers/{reference}/stages"
        data = self._json("GET", path, self._request("GET", path))
        if data.get("stage") is not None and data["stage"] not in rules.STAGES:
            raise CmrPermanentError(f"GET {path}: unknown stage {data['stage']!r}",
                                    code="unknown_stage")
        return data

    def find_by_portal_id(self, portal_dossier_id: str | int) -> list[dict[str, Any]]:
        data = self._json("GET", "/dossiers", self._request(
            "GET", "/dossiers", params={"portal_dossier_id": str(portal_dossier_id)}))
        return list(data.get("results") or [])


_local = threading.local()


def get_client() -> CmrClient:
    """One client (and its connection pool) per thread, configured from settings."""
    client = getattr(_local, "client", None)
    if client is None or client.base_url != settings.CMR_BASE_URL.rstrip("/"):
        client = _local.client = CmrClient()
    return client
