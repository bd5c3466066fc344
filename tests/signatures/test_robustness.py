"""verify_pdf never raises and never accepts a damaged document; trust comes from settings only."""

import asyncio
import random

import pytest

from signatures.services import Code, verify_pdf
from signatures.trust import trust_store_from_settings
from tests.factories import AgentFactory, ManagerFactory
from tests.pki import sample_pdf

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pki_settings")]


@pytest.fixture
def signed(pki):
    return pki.sign(sample_pdf(), "AB123456")


def signed_ranges(data):
    import re

    numbers = re.findall(rb"/ByteRange\s*\[([\d\s]+)\]", data)[-1].split()
    a, b, c, d = map(int, numbers)
    return (a, a + b), (c, c + d)


def test_random_damage_is_never_accepted_and_never_raises(signed):
    rng = random.Random(20261123)
    ranges = signed_ranges(signed)
    for _ in range(60):
        lo, hi = rng.choice(ranges)
        position = rng.randrange(lo, hi)
        damaged = bytearray(signed)
        damaged[position] ^= 1 << rng.randrange(8)
        report = verify_pdf(bytes(damaged))
        assert report.code in Code and not report.accepted, position
    for cut in sorted(rng.sample(range(1, len(signed) - 1), 30)):
        assert not verify_pdf(signed[:cut]).accepted, cut


def test_random_bytes_and_pdf_fragments_never_raise():
    rng = random.Random(7)
    for size in (1, 10, 100, 5000):
        assert verify_pdf(rng.randbytes(size)).code == Code.NOT_A_PDF
    for fragment in (b"%PDF-1.4\ntrailer<</Root 1 0 R>>\n%%EOF",
                     b"%PDF-1.4\n1 0 obj<</Type/Catalog/AcroForm<</Fields[2 0 R]>>>>endobj\n"
                     b"2 0 obj<</FT/Sig/V<</ByteRange[0 1 2 3]/Contents<00>>>>>endobj\n"
                     b"xref\n0 3\n0000000000 65535 f \ntrailer<</Root 1 0 R/Size 3>>\n"
                     b"startxref\n9\n%%EOF"):
        report = verify_pdf(fragment)
        assert not report.accepted


def test_none_and_memoryview_inputs(signed):
    assert verify_pdf(None).code == Code.NOT_A_PDF
    assert verify_pdf(memoryview(signed)).code == Code.OK
    assert verify_pdf(bytearray(signed)).code == Code.OK


def test_signer_must_be_a_real_account(signed):
    officer = ManagerFactory(cin="AB123456", full_name="Amina El Idrissi")
    other = AgentFactory(cin="ZZ999999")
    assert verify_pdf(signed, signer_must_be=officer).code == Code.OK
    assert verify_pdf(signed, signer_must_be=other).code == Code.SIGNER_NOT_AUTHORISED


def test_works_inside_a_running_event_loop(signed):
    async def upload():
        return verify_pdf(signed)

    assert asyncio.run(upload()).code == Code.OK


def test_trust_comes_from_settings_files(settings, pki):
    store = trust_store_from_settings()
    assert len(store.roots) == 1 and len(store.intermediates) == 1 and len(store.crls) == 2
    assert not store.allow_fetching
    # a single PEM file works as well as a directory
    settings.SIGNATURES_TRUST_ROOTS = [str(pki.directory / "trust/roots/root.pem")]
    assert len(trust_store_from_settings().roots) == 1


def test_fetching_only_when_configured_and_with_a_timeout(settings):
    settings.SIGNATURES_ALLOW_FETCHING = True
    settings.SIGNATURES_FETCH_TIMEOUT = 3
    store = trust_store_from_settings()
    assert store.allow_fetching and store.fetch_timeout == 3
    context = store.validation_context()
    assert context.fetching_allowed


def test_messages_tell_the_officer_what_to_do():
    from signatures.verification import MESSAGES

    assert set(MESSAGES) == set(Code)
    assert "sign" in str(MESSAGES[Code.MODIFIED_AFTER_SIGNING]).lower()


def test_classic_xref_table_documents_are_accepted(pki):
    import io

    from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

    from . import forge

    writer = PdfFileWriter(stream_xrefs=False)
    writer.insert_page(PageObject(forge.stream(writer, forge.text_ops("Montant: 1000 DH")),
                                  forge.A4, forge.HELVETICA))
    out = io.BytesIO()
    writer.write(out)
    assert b"\nxref\n" in out.getvalue()
    both = pki.sign(pki.sign(out.getvalue(), "AB123456"), "CD789012")
    assert verify_pdf(both).code == Code.OK
    assert verify_pdf(forge.add_annotation(both)).code == Code.MODIFIED_AFTER_SIGNING


def test_report_round_trips_through_json_and_renders(signed):
    import json

    from django.template.loader import render_to_string

    from signatures.services import VerificationReport

    report = verify_pdf(signed)
    again = VerificationReport.from_dict(json.loads(json.dumps(report.as_dict())))
    assert again.as_dict() == report.as_dict()
    html = render_to_string("signatures/_report.html", {"report": again})
    assert "Amina El Idrissi" in html and "AB123456" in html and "Signature vérifiée" in html
    refused = render_to_string("signatures/_report.html", {"report": verify_pdf(b"x")})
    assert "Signature refusée" in refused and "PDF lisible" in refused


def test_hybrid_reference_documents_are_accepted(pki):
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader

    from . import forge

    data = forge.hybrid_pdf()
    assert PdfFileReader(io.BytesIO(data), strict=False).xrefs.hybrid_xrefs_present
    signed = pki.sign(data, "AB123456")
    assert verify_pdf(signed).code == Code.OK
    both = pki.sign(signed, "CD789012")
    assert verify_pdf(both, signer_must_be="AB123456").code == Code.OK
    assert verify_pdf(forge.replace_text(signed)).code == Code.MODIFIED_AFTER_SIGNING
    assert verify_pdf(forge.add_annotation(both)).code == Code.MODIFIED_AFTER_SIGNING
