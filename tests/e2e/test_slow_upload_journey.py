"""Uploads on a slow line, in a real browser (Chromium's network emulation, through CDP), in French and
Arabic: three signed PDFs chosen at once are sorted to their checklist lines by file name or PDF title,
the one that says nothing is asked about; while sending, a percentage and then "verifying the
signature", the buttons disabled; a cut mid-upload says so with a Retry button, and the retry succeeds
once the line is back; a file already received is not sent again (no request leaves)."""

import contextlib
import datetime as dt
import re
import secrets
import socket
import threading
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from dossiers import services
from dossiers.models import Document
from signatures.rendering import IssuedDocument, render_pdf
from tests.dossiers.conftest import affiliate, officers  # noqa: F401
from tests.e2e.helpers import login, off_loop
from tests.pki import pki, pki_settings  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

PERCENT = re.compile(r"\d+[\s\u200e\u200f\u061c]*[%٪]")

# What the officer reads is recorded as it changes (kept across the reload that follows the sending):
# a step may last less than a poll of the test.
RECORD_STEPS = """
document.addEventListener("DOMContentLoaded", function () {
  var log = JSON.parse(sessionStorage.getItem("uploadLog") || "[]");
  new MutationObserver(function () {
    document.querySelectorAll("[data-testid=upload-panel]").forEach(function (p) {
      var s = p.querySelector("[data-testid=upload-status]");
      var entry = (p.getAttribute("data-step") || "") + "|" + (s ? s.textContent : "");
      if (log[log.length - 1] !== entry) { log.push(entry); sessionStorage.setItem("uploadLog", JSON.stringify(log)); }
    });
  }).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
});
"""


class Line:
    """A line between the browser and the live server that can be cut: a TCP relay on 127.0.0.1 whose
    ``cut()`` drops every connection (an upload on its way fails as on a real cut line) and refuses new ones
    until ``restore()``. Chromium's own offline emulation does not stop a request already under way."""

    def __init__(self, target):
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.up, self.open, self.lock = True, set(), threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            server = socket.create_connection(self.target)
            with self.lock:
                self.open |= {client, server}
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                self._drop(sock)

    def _drop(self, sock):
        with self.lock:
            self.open.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def cut(self):
        self.up = False
        with self.lock:
            socks = list(self.open)
        for sock in socks:
            self._drop(sock)

    def restore(self):
        self.up = True

    def close(self):
        self.cut()
        self.listener.close()


def signed(pki, path, title, title_ar="", lines=120):  # noqa: F811
    """A signed PDF of some weight (random text does not compress), titled as given, written to ``path``."""
    pdf = render_pdf(IssuedDocument(
        title=title, title_ar=title_ar, reference=path.stem, issued_at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC),
        fields=[(f"Ligne {i}", secrets.token_urlsafe(48)) for i in range(lines)]))
    path.write_bytes(pki.sign(pdf, "CD789012"))
    return str(path)


def network(cdp, *, kbps=None, offline=False):
    """Chromium's network emulation: ``kbps`` kilobytes a second each way, or no line at all."""
    rate = kbps * 1024 if kbps else -1
    cdp.send("Network.emulateNetworkConditions", {"offline": offline, "latency": 150 if kbps else 0,
                                                 "downloadThroughput": rate, "uploadThroughput": rate})


@pytest.mark.parametrize("locale", ["fr-FR", "ar-MA"])
def test_several_files_on_a_slow_line(browser, live_server, officers, affiliate, pki, tmp_path, shot,  # noqa: F811
                                      locale):
    target = urlsplit(live_server.url)
    line_to_server = Line((target.hostname, target.port))
    base, tag = line_to_server.url, locale[:2]
    agent = officers[1]
    dossier = services.open_dossier(agent, affiliate_id=affiliate.pk, kind_code="age_limit")
    marriage = off_loop(signed, pki, tmp_path / "acte_de_mariage.pdf", "Scan 2026-03-02")  # by its name
    rib = off_loop(signed, pki, tmp_path / "scan0042.pdf", "Attestation de RIB", "شهادة التعريف البنكي")  # title
    unknown = off_loop(signed, pki, tmp_path / "IMG_0042.pdf", "Document numérisé")  # neither: asked
    services_file = off_loop(signed, pki, tmp_path / "etat_des_services.pdf", "Scan", lines=200)

    ctx = browser.new_context(locale=locale)
    ctx.add_init_script(RECORD_STEPS)
    page = login(ctx, base, "CD789012")
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and "/upload/" in r.url else None)
    page.goto(f"{base}/dossiers/{dossier.pk}/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if tag == "ar" else "ltr")
    cdp = ctx.new_cdp_session(page)
    cdp.send("Network.enable")
    network(cdp, kbps=50)

    # Three files at once: two sorted by the page, the third asked about.
    bulk = page.get_by_test_id("bulk-upload")
    bulk.get_by_test_id("bulk-files").set_input_files([marriage, rib, unknown])
    plan = bulk.get_by_test_id("bulk-file")
    expect(plan).to_have_count(3)
    items = bulk.get_by_test_id("bulk-item")
    expect(items.nth(0)).to_have_value("marriage")
    expect(items.nth(1)).to_have_value("rib")
    expect(items.nth(2)).to_have_value("")
    bulk.get_by_test_id("bulk-send").click()
    expect(bulk.get_by_test_id("choose-items")).to_be_visible()  # nothing leaves before it is chosen
    shot(page, f"upload-plan-{tag}")
    assert posts == []
    items.nth(2).select_option("cin")
    bulk.get_by_test_id("bulk-send").click()
    expect(bulk.get_by_test_id("bulk-send")).to_be_disabled()
    expect(page.get_by_test_id("upload-rib").locator("button[type=submit]")).to_be_disabled()
    expect(bulk.get_by_test_id("upload-status")).to_contain_text(PERCENT)
    shot(page, f"upload-sending-{tag}")
    # the sending ends with a reload, showing each file on its line
    for line in ("marriage", "rib", "cin"):
        expect(page.get_by_test_id(f"line-{line}").get_by_test_id("document")).to_have_count(1, timeout=60_000)
    log = page.evaluate("JSON.parse(sessionStorage.getItem('uploadLog') || '[]')")
    sending = [i for i, e in enumerate(log) if e.startswith("sending|") and PERCENT.search(e)]
    verifying = [i for i, e in enumerate(log) if e.startswith("verifying|")]
    assert sending and verifying and sending[0] < verifying[0], log
    assert len(verifying) == 3 and len(posts) == 3
    assert dict(Document.objects.values_list("original_name", "item__code")) == {
        "acte_de_mariage.pdf": "marriage", "scan0042.pdf": "rib", "IMG_0042.pdf": "cin"}

    # The line is cut while a file is on its way: said plainly, with a Retry button; nothing is stuck.
    network(cdp, kbps=10)
    line = page.get_by_test_id("line-service_statement")
    line.locator("input[type=file]").set_input_files(services_file)
    line.locator("button[type=submit]").click()
    status = line.get_by_test_id("upload-status")
    expect(status).to_contain_text(re.compile(r"[1-9]\d*[\s\u200e\u200f\u061c]*[%٪]"))  # on its way
    line_to_server.cut()
    panel = line.get_by_test_id("upload-panel")
    expect(panel).to_have_attribute("data-step", "failed", timeout=30_000)
    retry = line.get_by_test_id("upload-retry")
    expect(retry).to_be_visible()
    expect(status).to_contain_text("etat_des_services.pdf")
    expect(panel.locator("progress")).to_be_hidden()
    expect(line.locator("button[type=submit]")).to_be_enabled()
    shot(page, f"upload-failed-{tag}")
    assert not Document.objects.filter(item__code="service_statement").exists()
    line_to_server.restore()
    retry.click()
    expect(page.get_by_test_id("line-service_statement").get_by_test_id("document")).to_have_count(1, timeout=60_000)
    page.wait_for_load_state()  # the page's script is there again

    # The same file again: the page says it is already received, and sends nothing.
    sent = len(posts)
    bulk = page.get_by_test_id("bulk-upload")
    bulk.get_by_test_id("bulk-files").set_input_files([marriage])
    expect(bulk.get_by_test_id("already-received")).to_contain_text("acte_de_mariage.pdf")
    expect(bulk.get_by_test_id("bulk-file")).to_have_count(0)
    bulk.get_by_test_id("bulk-send").click()
    shot(page, f"upload-already-received-{tag}")
    page.wait_for_timeout(500)
    assert len(posts) == sent
    assert Document.objects.count() == 4
    ctx.close()
    line_to_server.close()
