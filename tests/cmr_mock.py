"""Test helpers around the REAL mock CMR back office process, reusable by any test folder.

In a conftest::

    from tests.cmr_mock import callback_receiver, cmr_mock, cmr_mock_factory  # noqa: F401

- ``cmr_mock_factory(**options)`` starts ``python -m cmr.mock`` on a free port with a fresh data
  directory and returns a ``MockCmr`` (stopped at teardown). Options: ``callback_url``,
  ``secret``, ``faults`` (dict, sent as CMR_MOCK_* variables), ``extra_args``, ``env``.
- ``cmr_mock``: one started with its callbacks going to ``callback_receiver``.
- ``callback_receiver``: a tiny local HTTP server that records every request and answers from a
  queue of canned responses (200 by default); also a stub back office for client tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from cmr import rules

ROOT = Path(__file__).resolve().parent.parent
TEST_SECRET = "test-callback-secret-0123456789"
ADMIN_TOKEN = "test-admin-token"


def wait_until(predicate, timeout: float = 15.0, interval: float = 0.05, message: str = ""):
    """Poll ``predicate`` until it returns a truthy value (returned) or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message or f"condition not met within {timeout} s")
        time.sleep(interval)


def make_delivery(portal_dossier_id="D-1", *, documents=2, size=2048, kind="age_limit",
                  supplement_to=None, seed=0):
    """A manifest and its PDFs (fake bytes that start like a PDF)."""
    docs = []
    for i in range(documents):
        content = (b"%PDF-1.7\n" + bytes([(seed + i + j) % 251 for j in range(size)]))
        docs.append((f"doc{i + 1}.pdf", f"code_{i + 1}", content))
    manifest = rules.build_manifest(
        portal_dossier_id=portal_dossier_id, kind=kind,
        affiliate={"affiliation_number": "123456", "ppr": "987654", "cin": "AB12345"},
        collectivity_code="01.511.01.0", documents=docs, supplement_to=supplement_to)
    files = [(name, content) for name, _code, content in docs]
    return manifest, files


def api_token() -> str:
    """The bearer token the mock asks: the portal's own (settings.CMR_API_TOKEN), as in make run."""
    from django.conf import settings

    return settings.CMR_API_TOKEN


def post_delivery(base_url, key, manifest, files, timeout=10, token=None):
    parts = [("manifest", (None, json.dumps(manifest), "application/json"))]
    parts += [("file", (name, content, "application/pdf")) for name, content in files]
    return requests.post(f"{base_url}/dossiers", files=parts, timeout=timeout, headers={
        "Idempotency-Key": key, "Authorization": f"Bearer {api_token() if token is None else token}"})


# --- the mock process -----------------------------------------------------------------------------

class MockCmr:
    def __init__(self, data_dir: Path, *, callback_url: str = "", secret: str = TEST_SECRET,
                 faults: dict | None = None, extra_args: list[str] | None = None,
                 env: dict | None = None, port: int = 0):
        self.data_dir = Path(data_dir)
        self.callback_url = callback_url
        self.secret = secret
        self.faults = dict(faults or {})
        self.extra_args = list(extra_args or [])
        self.extra_env = dict(env or {})
        self.port = port
        self.proc: subprocess.Popen | None = None
        self.lines: list[str] = []
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {api_token()}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> MockCmr:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CMR_MOCK_")}
        env.pop("CMR_CALLBACK_SECRET", None)
        env.update({f"CMR_MOCK_{k.upper()}": str(v) for k, v in self.faults.items()})
        env.update(self.extra_env)
        env["PYTHONUNBUFFERED"] = "1"
        args = [
            sys.executable, "-m", "cmr.mock", "serve", "--host", "127.0.0.1",
            "--port", str(self.port), "--data-dir", str(self.data_dir),
            "--admin-token", ADMIN_TOKEN, "--secret", self.secret, "--api-token", api_token(),
            "--callback-url", self.callback_url,
            "--callback-poll", "0.05", "--callback-backoff-base", "0.05",
            "--callback-backoff-cap", "0.4", "--callback-timeout", "3",
            *self.extra_args,
        ]
        self.log = open(self.data_dir / "mock.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=self.log, text=True)
        ready = threading.Event()

        def read():
            for line in self.proc.stdout:
                self.lines.append(line)
                if "listening on http://" in line:
                    self.port = int(line.split("listening on http://", 1)[1].split()[0]
                                    .rsplit(":", 1)[1])
                    ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(timeout):
            self.stop()
            raise RuntimeError(f"the mock did not start: {self.lines} {self.read_log()}")
        wait_until(lambda: self._healthy(), timeout=timeout, message="mock /healthz")
        return self

    def _healthy(self) -> bool:
        try:
            return requests.get(f"{self.base_url}/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def read_log(self) -> str:
        path = self.data_dir / "mock.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if getattr(self, "log", None):
            self.log.close()

    def restart(self) -> MockCmr:
        """Stop and start again on the same port and data directory (storage survives)."""
        self.stop()
        self.lines = []
        return self.start()

    # --- API shortcuts -------------------------------------------------------------------------

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(f"{self.base_url}{path}", timeout=kwargs.pop("timeout", 10),
                                **kwargs)

    def stats(self) -> dict:
        response = self.get("/stats")
        response.raise_for_status()
        return response.json()

    def admin(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", **kwargs.pop("headers", {})}
        return self.session.request(method, f"{self.base_url}{path}", headers=headers,
                                    timeout=10, **kwargs)

    def set_faults(self, **faults) -> dict:
        response = self.admin("POST", "/admin/faults", json=faults)
        assert response.status_code == 200, response.text
        return response.json()

    def advance(self, reference: str, stage: str, details: dict | None = None) -> dict:
        response = self.admin("POST", f"/admin/dossiers/{reference}/stage",
                              json={"stage": stage, "details": details or {}})
        assert response.status_code == 200, response.text
        return response.json()

    def deliver(self, key: str, manifest: dict, files, **kwargs) -> requests.Response:
        return post_delivery(self.base_url, key, manifest, files, **kwargs)


# --- a recording HTTP server ----------------------------------------------------------------------

@dataclass
class Recorded:
    method: str
    path: str
    headers: dict
    body: bytes


@dataclass
class RecordingServer:
    """Records every request; answers with queued (status, body, content type), else ``default``."""

    default: tuple = (200, b'{"status": "ok"}', "application/json")
    responses: deque = field(default_factory=deque)
    requests: list = field(default_factory=list)
    port: int = 0

    def __post_init__(self):
        self._cond = threading.Condition()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with recorder._cond:
                    recorder.requests.append(
                        Recorded(self.command, self.path,
                                 CaseInsensitiveDict(self.headers.items()), body))
                    status, payload, ctype = (recorder.responses.popleft()
                                              if recorder.responses else recorder.default)
                    recorder._cond.notify_all()
                if isinstance(payload, dict | list):
                    payload = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = _handle  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Recorded]:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.requests) >= count, timeout):
                raise AssertionError(f"{len(self.requests)} request(s) received, {count} expected")
            return list(self.requests)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# --- fixtures -------------------------------------------------------------------------------------

@pytest.fixture
def callback_receiver():
    server = RecordingServer()
    yield server
    server.stop()


@pytest.fixture
def cmr_mock_factory():
    started: list[MockCmr] = []
    dirs: list[tempfile.TemporaryDirectory] = []

    def start(**options) -> MockCmr:
        tmp = tempfile.TemporaryDirectory(prefix="cmr-mock-")
        dirs.append(tmp)
        mock = MockCmr(Path(tmp.name), **options)
        started.append(mock)
        return mock.start()

    yield start
    for mock in started:
        mock.stop()
    for tmp in dirs:
        tmp.cleanup()


@pytest.fixture
def cmr_mock(cmr_mock_factory, callback_receiver):
    return cmr_mock_factory(callback_url=f"{callback_receiver.url}/cmr/callbacks/")
