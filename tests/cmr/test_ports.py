"""The tests never talk to `make run`'s services: a back office listening on make run's default port
(127.0.0.1:8001) is never reached by a test that starts none of its own."""

import socket
import threading

import pytest

from cmr.models import Transmission
from tests.cmr.test_outbox import certified  # noqa: F401
from tests.dossiers.conftest import affiliate, officers  # noqa: F401
from tests.pki import pki, pki_settings, sample_pdf, signed_pdf  # noqa: F401

MAKE_RUN_MOCK = ("127.0.0.1", 8001)


@pytest.fixture
def make_run_mock():
    """A listener on make run's port that answers every request as a back office would (HTTP 200), and
    counts the connections it gets. When the port is taken (a developer's `make run` is up), that one
    plays the part."""
    hits = []
    try:
        server = socket.create_server(MAKE_RUN_MOCK)
    except OSError:
        yield hits
        return
    server.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _addr = server.accept()
            except OSError:
                continue
            hits.append(conn.recv(4096))
            body = b'{"reference": "CMR-FROM-MAKE-RUN"}'
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield hits
    stop.set()
    thread.join(2)
    server.close()


@pytest.mark.django_db
def test_a_certification_never_reaches_the_back_office_of_make_run(make_run_mock, certified, settings):  # noqa: F811
    assert not settings.CMR_BASE_URL.endswith(":8001")
    certified()  # the on-commit send runs at once (eager) against the configured address: nothing listens
    transmission = Transmission.objects.get()
    assert transmission.status == "pending" and transmission.attempts == 1 and not transmission.cmr_reference
    assert make_run_mock == []
