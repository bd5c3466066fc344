"""The mock back office's HTTP server: standard library only (``http.server``, threaded, HTTP/1.1).

Routes (documented in ``openapi.yaml``, served at ``/openapi.yaml`` and ``/openapi.json``)::

    POST /dossiers                       receive a dossier (manifest + PDFs), Idempotency-Key
    GET  /dossiers?portal_dossier_id=X   find deliveries
    GET  /dossiers/{ref}                 one dossier, its documents and stage history
    GET  /dossiers/{ref}/stages          its current stage and history
    POST /dossiers/{ref}/stages          a stage commanded by the portal (a CMR agent's act), Idempotency-Key
    GET  /stats                          distinct dossiers, duplicate deliveries, count per stage
    GET|POST /admin/faults               fault injection (token)
    POST /admin/dossiers/{ref}/stage     move a dossier (token)
    GET  /admin/callbacks?status=S       the callback outbox: attempts, last error (token)
    POST /admin/callbacks/retry          resend the callbacks given up (token)
    GET  /                               the back office's page (list + buttons)
    GET  /healthz
"""

from __future__ import annotations

import contextlib
import hmac
import html
import json
import logging
import re
import signal
import socket
import threading
import time
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cmr import rules

from . import faults as faults_mod
from .callbacks import CallbackSender, Timer
from .faults import FaultInjector
from .store import Store, StoreError

log = logging.getLogger("cmr.mock")

OPENAPI_PATH = Path(__file__).with_name("openapi.yaml")
REPLAYED_HEADER = "Idempotent-Replayed"


@dataclass
class MockConfig:
    host: str = "127.0.0.1"
    port: int = 8001
    data_dir: str = "var/cmr_mock"
    callback_url: str = ""
    secret: str = ""
    admin_token: str = ""
    # When set, every business API call must carry "Authorization: Bearer <api_token>" (the portal's
    # CMR_API_TOKEN), as the real back office authenticates the portal.
    api_token: str = ""
    auto_advance_seconds: float = 0.0
    keep_files: bool = True
    callback_timeout: float = 5.0
    callback_max_attempts: int = 15
    callback_backoff_base: float = 0.5
    callback_backoff_cap: float = 30.0
    callback_poll_seconds: float = 0.5
    max_body_mb: int = 200
    verbose: bool = False


class MockApp:
    def __init__(self, config: MockConfig, faults: dict[str, Any] | None = None):
        self.config = config
        self.faults = FaultInjector(faults)
        self.store = Store(config.data_dir, keep_files=config.keep_files,
                           on_callback_enqueued=self._wake_sender)
        self.sender = CallbackSender(
            self.store, self.faults, url=config.callback_url, secret=config.secret,
            timeout=config.callback_timeout, max_attempts=config.callback_max_attempts,
            backoff_base=config.callback_backoff_base, backoff_cap=config.callback_backoff_cap,
            poll_seconds=config.callback_poll_seconds, seed=self.faults.faults.seed)
        self.timer = Timer(self.store, config.auto_advance_seconds) \
            if config.auto_advance_seconds > 0 else None
        self.started = time.time()

    def _wake_sender(self) -> None:
        sender = getattr(self, "sender", None)
        if sender is not None:
            sender.wake.set()

    def start_background(self) -> None:
        self.sender.start()
        if self.timer:
            self.timer.start()

    def stop_background(self) -> None:
        self.sender.stop()
        if self.timer:
            self.timer.stop()


# --- multipart ------------------------------------------------------------------------------------

class MalformedRequest(Exception):
    pass


def parse_multipart(body: bytes, content_type: str) -> list[tuple[str, str | None, bytes]]:
    """(field name, file name or None, content) of each part of a multipart/form-data body."""
    match = re.search(r'boundary="?([^";]{1,200})"?', content_type)
    if not match:
        raise MalformedRequest("multipart boundary missing")
    delimiter = b"\r\n--" + match.group(1).encode("latin-1")
    pieces = (b"\r\n" + body).split(delimiter)
    if len(pieces) < 3 or not pieces[-1].startswith(b"--"):
        raise MalformedRequest("multipart body not terminated")
    parts = []
    for piece in pieces[1:-1]:
        line_end = piece.find(b"\r\n")
        if line_end < 0 or piece[:line_end].strip():
            raise MalformedRequest("bad multipart delimiter line")
        head, sep, content = piece[line_end + 2:].partition(b"\r\n\r\n")
        if not sep:
            raise MalformedRequest("multipart part without headers")
        headers = BytesHeaderParser().parsebytes(head + b"\r\n\r\n")
        name = headers.get_param("name", header="content-disposition")
        if not name:
            raise MalformedRequest("multipart part without a name")
        filename = headers.get_filename()
        parts.append((str(name), Path(filename).name if filename else None, content))
    return parts


# --- the handler ----------------------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cmr-mock/1"
    disable_nagle_algorithm = True  # headers and body leave at once (no 40 ms delayed-ACK stall)
    app: MockApp  # set on the server class

    ROUTES = [
        # method, pattern, handler name, business API (faults apply), admin (token)
        ("GET", r"/healthz", "healthz", False, False),
        ("GET", r"/", "page", False, False),
        ("POST", r"/ui/advance", "page_advance", False, False),
        ("POST", r"/ui/callbacks/retry", "page_retry", False, False),
        ("GET", r"/openapi\.yaml", "openapi_yaml", False, False),
        ("GET", r"/openapi\.json", "openapi_json", False, False),
        ("GET", r"/stats", "stats", False, False),
        ("POST", r"/dossiers", "receive", True, False),
        ("GET", r"/dossiers", "find", True, False),
        ("GET", r"/dossiers/(?P<ref>[A-Za-z0-9-]{1,64})", "dossier", True, False),
        ("GET", r"/dossiers/(?P<ref>[A-Za-z0-9-]{1,64})/stages", "stages", True, False),
        ("POST", r"/dossiers/(?P<ref>[A-Za-z0-9-]{1,64})/stages", "stage_command", True, False),
        ("GET", r"/admin/faults", "get_faults", False, True),
        ("POST", r"/admin/faults", "set_faults", False, True),
        ("POST", r"/admin/dossiers/(?P<ref>[A-Za-z0-9-]{1,64})/stage", "admin_stage", False, True),
        ("GET", r"/admin/callbacks", "admin_callbacks", False, True),
        ("POST", r"/admin/callbacks/retry", "admin_retry", False, True),
    ]

    @property
    def app(self) -> MockApp:  # type: ignore[override]
        return self.server.app  # type: ignore[attr-defined]

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        log.debug("%s %s", self.address_string(), format % args)

    def do_GET(self):  # noqa: N802
        self._dispatch("GET")

    def do_POST(self):  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self):  # noqa: N802
        self._dispatch("PUT")

    def do_DELETE(self):  # noqa: N802
        self._dispatch("DELETE")

    # --- dispatch ------------------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        self.query = parse_qs(url.query)
        path = url.path.rstrip("/") or "/"
        allowed = []
        for route_method, pattern, name, api, admin in self.ROUTES:
            match = re.fullmatch(pattern, path)
            if not match:
                continue
            if route_method != method:
                allowed.append(route_method)
                continue
            return self._run(getattr(self, name), match.groupdict(), api=api, admin=admin)
        self._discard_body()
        if allowed:
            return self._json(405, {"error": "method_not_allowed"}, {"Allow": ", ".join(allowed)})
        return self._json(404, {"error": "not_found", "message": f"no route {path}"})

    def _run(self, handler, kwargs, *, api: bool, admin: bool) -> None:
        faults = self.app.faults
        store = self.app.store
        if api and faults.is_down():
            store.bump("injected_down")
            if faults.faults.down_mode == "drop":
                return self._drop()
            self._discard_body()
            return self._json(503, {"error": "down", "message": "back office unavailable"},
                              {"Retry-After": "1"})
        if admin and not self._admin_allowed():
            self._discard_body()
            return
        if api and not self._caller_allowed():
            self._discard_body()
            store.bump("refused_unauthenticated")
            return self._json(401, {"error": "unauthorized", "message": "the portal's bearer token is required"},
                              {"WWW-Authenticate": "Bearer"})
        try:
            self.body = self._read_body()
        except MalformedRequest as exc:
            return self._json(413 if "large" in str(exc) else 411, {"error": "bad_length",
                                                                    "message": str(exc)})
        fate = faults_mod.OK
        if api:
            if faults.faults.latency_ms:
                time.sleep(faults.faults.latency_ms / 1000)
            fate = faults.draw()
            if fate == faults_mod.ERROR:
                store.bump("injected_errors")
                return self._json(500, {"error": "injected_error", "message": "internal error"})
        try:
            status, payload, headers = handler(**kwargs)
        except StoreError as exc:
            status, payload, headers = exc.status, {
                "error": type(exc).__name__, "message": str(exc), "errors": exc.errors}, {}
        except MalformedRequest as exc:
            status, payload, headers = 400, {"error": "malformed_request", "message": str(exc)}, {}
        except Exception:
            log.exception("%s %s failed", self.command, self.path)
            status, payload, headers = 500, {"error": "internal_error"}, {}
        if fate == faults_mod.TIMEOUT:
            store.bump("injected_timeouts")
            time.sleep(faults.faults.timeout_seconds)
        elif fate == faults_mod.BAD_ANSWER:
            store.bump("injected_bad_answers")
            return self._send(200, b"<html><body><h1>CMR</h1><p>Maintenance</p></body></html>",
                              "text/html; charset=utf-8")
        if isinstance(payload, bytes | str):
            return self._send(status, payload.encode() if isinstance(payload, str) else payload,
                              headers.pop("Content-Type", "text/html; charset=utf-8"), headers)
        return self._json(status, payload, headers)

    # --- plumbing ------------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        if self.command not in ("POST", "PUT"):
            return b""
        length = self.headers.get("Content-Length")
        if length is None:
            if self.headers.get("Transfer-Encoding"):
                self.close_connection = True
                raise MalformedRequest("chunked bodies are not supported; send Content-Length")
            return b""
        try:
            size = int(length)
        except ValueError:
            self.close_connection = True
            raise MalformedRequest("bad Content-Length") from None
        if size > self.app.config.max_body_mb * 1024 * 1024:
            self.close_connection = True
            raise MalformedRequest("body too large")
        return self.rfile.read(size)

    def _discard_body(self) -> None:
        with contextlib.suppress(MalformedRequest):
            self._read_body()

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send(self, status: int, data: bytes, content_type: str,
              headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a timeout, on purpose or not)

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self._send(status, data, "application/json; charset=utf-8", headers)

    def _caller_allowed(self) -> bool:
        token = self.app.config.api_token
        if not token:
            return True
        auth = self.headers.get("Authorization", "")
        given = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        return bool(given) and hmac.compare_digest(given.encode(), token.encode())

    def _admin_allowed(self) -> bool:
        token = self.app.config.admin_token
        if not token:
            self._json(403, {"error": "admin_disabled",
                             "message": "set CMR_MOCK_ADMIN_TOKEN to use the admin endpoints"})
            return False
        given = self.headers.get("X-Admin-Token", "")
        auth = self.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        if not given or not hmac.compare_digest(given.encode(), token.encode()):
            self._json(401, {"error": "unauthorized", "message": "admin token required"},
                       {"WWW-Authenticate": "Bearer"})
            return False
        return True

    def _json_body(self) -> dict[str, Any]:
        if not self.body:
            return {}
        try:
            data = json.loads(self.body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise MalformedRequest("the body is not JSON") from None
        if not isinstance(data, dict):
            raise MalformedRequest("the body is not a JSON object")
        return data

    # --- control plane -------------------------------------------------------------------------

    def healthz(self):
        return 200, {"status": "ok"}, {}

    def openapi_yaml(self):
        return 200, OPENAPI_PATH.read_bytes(), {"Content-Type": "application/yaml; charset=utf-8"}

    def openapi_json(self):
        import yaml  # PyYAML, a dependency of the project

        return 200, yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8")), {}

    def stats(self):
        data = self.app.store.stats()
        data["faults"] = self.app.faults.snapshot()
        data["uptime_seconds"] = round(time.time() - self.app.started, 1)
        return 200, data, {}

    def get_faults(self):
        return 200, self.app.faults.snapshot(), {}

    def set_faults(self):
        try:
            snapshot = self.app.faults.update(self._json_body())
        except ValueError as exc:
            return 400, {"error": "bad_faults", "message": str(exc)}, {}
        log.warning("faults now %s", snapshot)
        self.app.sender.wake.set()
        return 200, snapshot, {}

    def admin_stage(self, ref):
        data = self._json_body()
        event = self.app.store.advance(ref, str(data.get("stage", "")), data.get("details"),
                                       source="admin")
        return 200, event, {}

    def admin_callbacks(self):
        status = (self.query.get("status") or [None])[0]
        return 200, {"results": self.app.store.callbacks(status=status)}, {}

    def admin_retry(self):
        return 200, {"requeued": self.app.store.retry_failed_callbacks()}, {}

    # --- business API --------------------------------------------------------------------------

    def receive(self):
        content_type = self.headers.get("Content-Type", "")
        if not content_type.startswith("multipart/form-data"):
            return 415, {"error": "unsupported_media_type",
                         "message": "send multipart/form-data: a manifest part and the PDFs"}, {}
        key = self.headers.get("Idempotency-Key", "").strip()
        if not key:
            return 400, {"error": "idempotency_key_required",
                         "message": "the Idempotency-Key header is required"}, {}
        manifest = None
        files: dict[str, bytes] = {}
        errors = []
        for name, filename, content in parse_multipart(self.body, content_type):
            if name == rules.MANIFEST_FIELD:
                try:
                    manifest = json.loads(content)
                except (UnicodeDecodeError, json.JSONDecodeError):
                    errors.append("manifest: not JSON")
            elif filename:
                if filename in files:
                    errors.append(f"{filename}: received twice")
                files[filename] = content
        if manifest is None and not errors:
            errors.append("manifest: missing part")
        if errors:
            self.app.store.bump("rejected_payloads")
            return 422, {"error": "InvalidPayload", "message": "the delivery is malformed",
                         "errors": errors}, {}
        answer = self.app.store.receive(key, manifest, files)
        return answer.status, answer.body, {
            REPLAYED_HEADER: "true" if answer.replayed else "false",
            "Location": f"/dossiers/{answer.body['reference']}",
        }

    def find(self):
        portal_id = (self.query.get("portal_dossier_id") or [None])[0]
        return 200, {"results": self.app.store.find(portal_dossier_id=portal_id)}, {}

    def dossier(self, ref):
        return 200, self.app.store.dossier(ref), {}

    def stages(self, ref):
        return 200, self.app.store.stages(ref), {}

    def stage_command(self, ref):
        key = self.headers.get("Idempotency-Key", "").strip()
        if not key:
            return 400, {"error": "idempotency_key_required",
                         "message": "the Idempotency-Key header is required"}, {}
        data = self._json_body()
        answer = self.app.store.command(ref, key, str(data.get("stage", "")), data.get("details") or {})
        return answer.status, answer.body, {REPLAYED_HEADER: "true" if answer.replayed else "false"}

    # --- the page ------------------------------------------------------------------------------

    def page(self):
        return 200, render_page(self.app), {}

    def page_advance(self):
        form = {k: v[0] for k, v in parse_qs(self.body.decode("utf-8", "replace")).items()}
        details: dict[str, Any] = {}
        if form.get("requested"):
            details["requested_documents"] = [
                {"code": code.strip()} for code in form["requested"].split(",") if code.strip()]
        if form.get("reason"):
            details["reason"] = form["reason"][:500]
        try:
            self.app.store.advance(form.get("reference", ""), form.get("stage", ""), details,
                                   source="page")
        except StoreError as exc:
            return exc.status, render_page(self.app, error=str(exc)), {}
        return 303, b"", {"Location": "/"}

    def page_retry(self):
        self.app.store.retry_failed_callbacks()
        return 303, b"", {"Location": "/"}


PAGE_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}"
    "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3rem;"
    "text-align:left;font-size:.9rem}form{display:inline}button{margin:0 .15rem}"
    ".err{color:#a00}.muted{color:#777}input{width:9rem}"
)


def render_page(app: MockApp, error: str = "") -> str:
    stats = app.store.stats()
    e = html.escape
    rows = []
    for d in app.store.find(limit=200):
        actions = []
        if d["stage"]:
            for target in sorted(rules.STAGE_TRANSITIONS[d["stage"]]):
                extra = ""
                if target == rules.DOCUMENTS_REQUESTED:
                    extra = '<input name="requested" placeholder="codes, comma separated">'
                elif target == rules.REJECTED:
                    extra = '<input name="reason" placeholder="reason">'
                actions.append(
                    f'<form method="post" action="/ui/advance">'
                    f'<input type="hidden" name="reference" value="{e(d["reference"])}">'
                    f'<input type="hidden" name="stage" value="{e(target)}">{extra}'
                    f'<button type="submit">{e(target.replace("_", " "))}</button></form>')
        rows.append(
            f'<tr><td><a href="/dossiers/{e(d["reference"])}">{e(d["reference"])}</a></td>'
            f'<td>{e(d["portal_dossier_id"])}</td><td>{e(d["kind"])}</td>'
            f'<td>{e(d["collectivity_code"])}</td>'
            f'<td>{e(d["stage"] or "supplement to " + str(d["supplement_to"]))}</td>'
            f'<td class="muted">{e(d["received_at"])}</td><td>{d["replays"]}</td>'
            f'<td>{"".join(actions)}</td></tr>')
    cb = stats["callbacks"]
    retry = ('<form method="post" action="/ui/callbacks/retry"><button>resend failed callbacks'
             '</button></form>') if cb["failed"] else ""
    by_stage = ", ".join(f"{e(k)}: {v}" for k, v in stats["by_stage"].items())
    head = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<title>CMR back office (mock)</title>"
        f"<style>{PAGE_STYLE}</style></head><body>"
        "<h1>CMR back office (mock)</h1>"
    )
    if error:
        head += f'<p class="err">{e(error)}</p>'
    return head + (
        f"<p>Dossiers received: <b>{stats['dossiers_received']}</b> · duplicate deliveries: "
        f"{stats['duplicate_deliveries']} · supplements: {stats['supplements_received']} · "
        f"{by_stage}</p>"
        f"<p>Callbacks: pending {cb['pending']}, delivered {cb['delivered']}, failed {cb['failed']}"
        f" {retry}</p>"
        '<p class="muted"><a href="/stats">stats</a> · <a href="/openapi.yaml">OpenAPI</a></p>'
        "<table><thead><tr><th>reference</th><th>portal id</th><th>kind</th><th>collectivity</th>"
        "<th>stage</th><th>received</th><th>replays</th><th>move to</th></tr></thead><tbody>"
        + "".join(rows) + "</tbody></table></body></html>"
    )


class MockServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def make_server(config: MockConfig, faults: dict[str, Any] | None = None) -> MockServer:
    app = MockApp(config, faults)
    server = MockServer((config.host, config.port), Handler)
    server.app = app  # type: ignore[attr-defined]
    return server


def serve(config: MockConfig, faults: dict[str, Any] | None = None) -> None:
    """Run until SIGTERM or Ctrl-C. Prints the address it listens on (``--port 0`` picks one)."""
    logging.basicConfig(level=logging.DEBUG if config.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    server = make_server(config, faults)
    app: MockApp = server.app  # type: ignore[attr-defined]
    host, port = server.server_address[:2]

    def _stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    app.start_background()
    print(f"CMR mock listening on http://{host}:{port} (data: {Path(config.data_dir).resolve()})",
          flush=True)
    if not config.callback_url:
        print("No callback URL (CMR_MOCK_CALLBACK_URL): stage changes are not reported.",
              flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        app.stop_background()
        server.server_close()
