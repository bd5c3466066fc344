"""Every upload is scanned by a real clamd (tests/clamav.py: its database is one EICAR signature the
tests write): an infected file is refused with its own message, even validly signed; a scanner that
is down or answers nonsense refuses the upload too (fail closed), and nothing is stored."""

import io
import socket
import threading

import pikepdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from dossiers import services
from dossiers.models import Document
from eretraite import antivirus
from signatures.verification import Code
from tests.clamav import EICAR, SIGNATURE
from tests.dossiers.conftest import affiliate, officers  # noqa: F401
from tests.pki import pki, pki_settings, sample_pdf, signed_pdf  # noqa: F401

pytestmark = pytest.mark.django_db


def carrying_eicar(pdf_bytes: bytes) -> bytes:
    """The PDF with EICAR's test string in an uncompressed private stream (as a macro would travel)."""
    pdf = pikepdf.open(io.BytesIO(pdf_bytes))
    pdf.Root.PieceInfo = pikepdf.Dictionary(Eretraite=pikepdf.Dictionary(Private=pdf.make_stream(EICAR)))
    out = io.BytesIO()
    pdf.save(out, compress_streams=False, object_stream_mode=pikepdf.ObjectStreamMode.disable)
    return out.getvalue()


def test_clamd_answers_clean_and_infected(clamd, settings):
    settings.CLAMAV_URL = clamd
    assert antivirus.ping()
    assert antivirus.scan(sample_pdf()).clean
    verdict = antivirus.scan(b"junk before " + EICAR + b" junk after")
    assert not verdict.clean and verdict.threat.startswith(SIGNATURE)
    big = bytes(range(256)) * (8 * 1024 * 4)  # 8 MiB, many chunks
    assert antivirus.scan(big).clean
    assert not antivirus.scan(big + EICAR).clean


def test_a_signed_pdf_carrying_a_virus_is_refused_and_not_kept(clamd, settings, officers, affiliate, pki):  # noqa: F811
    settings.CLAMAV_URL = clamd
    _manager, agent = officers
    dossier = services.open_dossier(agent, affiliate_id=affiliate.pk, kind_code="age_limit")
    infected = pki.sign(carrying_eicar(sample_pdf("RIB")), "CD789012")
    document, report = services.add_document(agent, dossier.pk, item_code="rib", data=infected, filename="rib.pdf")
    assert document is None and report.code == Code.INFECTED and report.detail.startswith(SIGNATURE)
    assert not Document.objects.exists()
    with translation.override("fr"):
        assert "virus" in str(report.message)
    with translation.override("ar"):
        assert "فيروس" in str(report.message) or "تهديد" in str(report.message)
    # the same document without it is accepted
    clean = pki.sign(sample_pdf("RIB"), "CD789012")
    document, report = services.add_document(agent, dossier.pk, item_code="rib", data=clean, filename="rib.pdf")
    assert document is not None, report.code


def test_an_unsigned_infected_file_is_named_infected_first(clamd, settings, officers, affiliate):  # noqa: F811
    settings.CLAMAV_URL = clamd
    _manager, agent = officers
    dossier = services.open_dossier(agent, affiliate_id=affiliate.pk, kind_code="age_limit")
    _doc, report = services.add_document(agent, dossier.pk, item_code="rib", data=carrying_eicar(sample_pdf()),
                                         filename="rib.pdf")
    assert report.code == Code.INFECTED


def _fake_clamd(answer: bytes):
    """A socket that answers every command with ``answer`` (a scanner gone wrong)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    while conn.recv(65536):
                        if answer is not None:
                            conn.sendall(answer)
                            break
                except OSError:
                    pass

    threading.Thread(target=serve, daemon=True).start()
    return server, f"tcp://127.0.0.1:{server.getsockname()[1]}"


@pytest.mark.parametrize("failure", ["no daemon", "error line", "silence", "bad url"])
def test_a_scanner_that_gives_no_verdict_refuses_the_upload(settings, officers, affiliate, pki, client,  # noqa: F811
                                                           tmp_path, failure):
    server = None
    if failure == "no daemon":
        settings.CLAMAV_URL = f"unix://{tmp_path}/nobody.sock"
    elif failure == "error line":
        server, settings.CLAMAV_URL = _fake_clamd(b"INSTREAM size limit exceeded. ERROR\0")
    elif failure == "silence":
        server, settings.CLAMAV_URL = _fake_clamd(None)
        settings.CLAMAV_TIMEOUT = 0.5
    else:
        settings.CLAMAV_URL = "http://clamd.example/"
    try:
        _manager, agent = officers
        dossier = services.open_dossier(agent, affiliate_id=affiliate.pk, kind_code="age_limit")
        client.force_login(agent)
        answer = client.post(reverse("dossiers:upload", args=[dossier.pk]), {
            "item": "rib", "files": [SimpleUploadedFile("rib.pdf", pki.sign(sample_pdf("RIB"), "CD789012"),
                                                        "application/pdf")]},
            HTTP_ACCEPT="application/json", HTTP_ACCEPT_LANGUAGE="fr")
        assert answer.status_code < 500
        assert "virus" in answer.content.decode() and "quelques minutes" in answer.content.decode()
        assert not Document.objects.exists()
    finally:
        if server is not None:
            server.close()


def test_the_designation_spreadsheet_is_scanned_too(clamd, settings):
    import openpyxl

    from accounts.designation import SpreadsheetError, read_workbook

    settings.CLAMAV_URL = clamd
    book = openpyxl.Workbook()
    book.active.append(["CIN", EICAR.decode()])
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(SpreadsheetError) as refused, translation.override("fr"):
        read_workbook(out.getvalue())
    assert "virus" in " ".join(str(m) for m in refused.value.messages)
