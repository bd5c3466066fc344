"""Certification signed with the certifier's own token (CERTIFICATION_SIGNED_BY_TOKEN): the slip issued
unsigned, signed by him (PKCS#12 of the test PKI, and once with a SoftHSM2 token through the sign_pdf
command), verified as his signature on that very slip, then sealed by the platform."""

from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.http import Http404
from django.urls import reverse

from dossiers import services
from dossiers.models import Certification, Dossier, PendingCertification
from dossiers.services import DossierError
from signatures.services import Code, verify_pdf
from tests.dossiers.conftest import fill
from tests.factories import api_client_for
from tests.signatures import forge
from tests.softhsm import softhsm_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def token_mode(settings):
    settings.CERTIFICATION_SIGNED_BY_TOKEN = True
    return settings


@pytest.fixture
def submitted(officers, affiliate, signed_pdf):
    """A complete dossier the agent submitted; the manager (AB123456, Amina El Idrissi) certifies."""
    manager, agent = officers
    dossier = services.open_dossier(agent, affiliate_id=affiliate.pk, kind_code="age_limit")
    fill(agent, dossier, signed_pdf)
    services.submit(agent, dossier.pk)
    return dossier


def issued(pending) -> bytes:
    with pending.slip.open("rb") as handle:
        return handle.read()


def state(dossier):
    return Dossier.objects.get(pk=dossier.pk).state


def refused(report, reason=None, code=None):
    assert not report.accepted
    if code is not None:
        assert report.code == code, (report.code, report.reason, report.detail)
    if reason is not None:
        assert report.reason == reason, (report.code, report.reason, report.detail)
    return str(report.message)


def test_click_to_certify_is_refused_and_nothing_changes(token_mode, officers, submitted):
    manager, _agent = officers
    with pytest.raises(DossierError) as exc:
        services.certify(manager, submitted.pk)
    assert exc.value.code == "signature_required"
    with pytest.raises(DossierError):
        services.take_action(manager, submitted.pk, "certify")
    assert state(submitted) == "awaiting_certification" and not Certification.objects.exists()


def test_the_slip_to_sign_needs_the_certify_guards(token_mode, officers, submitted):
    _manager, agent = officers
    with pytest.raises(PermissionDenied):  # an agent without certifying authority
        services.slip_to_sign(agent, submitted.pk)
    agent.can_certify_dossiers = True
    agent.save()
    with pytest.raises(DossierError):  # four eyes: he submitted it
        services.slip_to_sign(agent, submitted.pk)
    assert not PendingCertification.objects.exists()


def test_refused_unsigned_other_officer_modified_other_round(token_mode, officers, submitted, pki):
    manager, _agent = officers
    pending = services.slip_to_sign(manager, submitted.pk)
    assert state(submitted) == "awaiting_certification"
    slip = issued(pending)
    assert slip.startswith(b"%PDF") and verify_pdf(slip).code == Code.NO_SIGNATURE  # unsigned

    with pytest.raises(Http404):  # a dossier out of his scope
        services.certify_signed(manager, submitted.pk + 1000, slip)

    _d, report = services.certify_signed(manager, submitted.pk, slip)  # not signed
    refused(report, code=Code.NO_SIGNATURE)

    _d, report = services.certify_signed(manager, submitted.pk, pki.sign(slip, "CD789012"))  # another officer
    message = refused(report, code=Code.SIGNER_NOT_AUTHORISED)
    assert "Youssef Benali" in message

    _d, report = services.certify_signed(manager, submitted.pk, pki.sign(forge.replace_text(slip), "AB123456"))
    refused(report, reason="not_issued")  # the slip modified before signing

    other = pki.sign(services.transmittal_slip(submitted, [], certified_by="x", certified_at=pending.requested_at,
                                               sealed=False), "AB123456")
    _d, report = services.certify_signed(manager, submitted.pk, other)  # another slip (another round/dossier)
    refused(report, reason="not_issued")

    _d, report = services.certify_signed(manager, submitted.pk, pki.sign(slip, "EE345678"))  # revoked officer
    refused(report)

    # his own tool made a certification signature that forbids any later one: the seal cannot follow
    _d, report = services.certify_signed(manager, submitted.pk, pki.sign(slip, "AB123456", certify=True))
    refused(report, code=Code.MODIFIED_AFTER_SIGNING)

    assert state(submitted) == "awaiting_certification" and not Certification.objects.exists()
    assert PendingCertification.objects.get().pk == pending.pk  # still there, to be signed properly


def test_accepted_when_signed_by_the_certifier_then_sealed(token_mode, officers, submitted, pki,
                                                          django_capture_on_commit_callbacks):
    manager, _agent = officers
    pending = services.slip_to_sign(manager, submitted.pk)
    signed = pki.sign(issued(pending), "AB123456")
    with django_capture_on_commit_callbacks(execute=True):
        dossier, report = services.certify_signed(manager, submitted.pk, signed)
    assert report.accepted and dossier.state == "certified" and dossier.certified_by == manager
    certification = Certification.objects.get(dossier=dossier)
    slip = certification.slip.read()
    assert slip.startswith(signed)  # the seal is an incremental signature over the officer's
    final = verify_pdf(slip)
    assert final.accepted, (final.code, final.detail)
    assert [s.signer for s in final.signatures] == ["Amina El Idrissi", "e-retraite platform seal"]
    assert all(s.code == Code.OK for s in final.signatures)
    sent = certification.manifest["sent"]["documents"][-1]
    assert sent["code"] == "transmittal_slip" and sent["size"] == len(slip)
    assert certification.slip_sha256 in str(certification.manifest)
    assert not PendingCertification.objects.exists()
    assert dossier.events.filter(action="certify").get().data.get("signed_by_token") is True


def test_outdated_slip_refused_when_the_documents_changed(token_mode, officers, submitted, pki, signed_pdf):
    manager, agent = officers
    pending = services.slip_to_sign(manager, submitted.pk)
    signed = pki.sign(issued(pending), "AB123456")
    services.apply_transition(submitted.pk, "return", by=manager, reason="Remplacer le RIB")
    fill(agent, submitted, lambda **kw: signed_pdf(**{**kw, "text": "rib v2"}), ["rib"])
    services.submit(agent, submitted.pk)
    with pytest.raises(DossierError) as exc:
        services.certify_signed(manager, submitted.pk, signed)
    assert exc.value.code == "slip_outdated"
    assert state(submitted) == "awaiting_certification" and not Certification.objects.exists()


def test_signed_with_the_softhsm2_token_through_the_pages(token_mode, officers, submitted, pki, client, tmp_path,
                                                          monkeypatch):
    """The certifier's journey on the page: get the slip, sign it on his machine with ``sign_pdf`` and his
    token (SoftHSM2), upload it; the dossier is certified with his signature and the platform's seal."""
    manager, _agent = officers
    client.force_login(manager)
    page = client.get(reverse("dossiers:detail", args=[submitted.pk])).content
    assert b'data-testid="action-slip-to-sign"' in page and b'data-testid="action-certify"' not in page
    client.post(reverse("dossiers:slip_to_sign", args=[submitted.pk]))
    page = client.get(reverse("dossiers:detail", args=[submitted.pk])).content
    assert b'data-testid="signed-slip"' in page
    download = client.get(reverse("dossiers:pending_slip", args=[submitted.pk]))
    (tmp_path / "slip.pdf").write_bytes(b"".join(download.streaming_content))

    token = softhsm_token(pki)
    monkeypatch.setenv("SIGN_PIN", token["pin"])
    call_command("sign_pdf", str(tmp_path / "slip.pdf"), str(tmp_path / "signed.pdf"), "--pkcs11-lib", token["lib"],
                 "--token-label", token["label"], "--key-label", token["key_label"],
                 "--chain", str(pki.directory / "trust/intermediates/class3-ca.pem"), stdout=StringIO())
    assert b'data-testid="certify-confirmed"' in page  # the form's own confirmation box
    response = client.post(reverse("dossiers:certify_signed", args=[submitted.pk]), {
        "file": SimpleUploadedFile("signed.pdf", (tmp_path / "signed.pdf").read_bytes(), "application/pdf"),
        "confirmed": "1"})
    assert response.status_code == 302
    assert state(submitted) == "certified"
    final = verify_pdf(Certification.objects.get(dossier=submitted).slip.read())
    assert final.accepted and [s.signer for s in final.signatures] == ["Amina El Idrissi", "e-retraite platform seal"]


def test_refusal_shown_on_the_page(token_mode, officers, submitted, pki, client):
    manager, _agent = officers
    client.force_login(manager)
    client.post(reverse("dossiers:slip_to_sign", args=[submitted.pk]))
    slip = issued(PendingCertification.objects.get())
    response = client.post(reverse("dossiers:certify_signed", args=[submitted.pk]), {
        "file": SimpleUploadedFile("signed.pdf", pki.sign(slip, "CD789012"), "application/pdf"), "confirmed": "1"},
        follow=True)
    assert "Youssef Benali" in response.content.decode()
    assert state(submitted) == "awaiting_certification"


def test_the_api_two_steps(token_mode, officers, submitted, pki):
    manager, _agent = officers
    api = api_client_for(manager)
    assert api.post(f"/api/v1/dossiers/{submitted.pk}/certify/").status_code == 400
    response = api.post(f"/api/v1/dossiers/{submitted.pk}/slip-to-sign/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    slip = response.content
    bad = api.post(f"/api/v1/dossiers/{submitted.pk}/certify-signed/",
                   {"file": SimpleUploadedFile("s.pdf", pki.sign(slip, "CD789012"), "application/pdf")},
                   format="multipart")
    assert bad.status_code == 400 and bad.json()["code"] == "SIGNER_NOT_AUTHORISED"
    good = api.post(f"/api/v1/dossiers/{submitted.pk}/certify-signed/",
                    {"file": SimpleUploadedFile("s.pdf", pki.sign(slip, "AB123456"), "application/pdf")},
                    format="multipart")
    assert good.status_code == 200, good.content
    assert state(submitted) == "certified"


def test_switched_off_there_is_no_slip_to_sign(settings, officers, submitted):
    settings.CERTIFICATION_SIGNED_BY_TOKEN = False
    manager, _agent = officers
    with pytest.raises(DossierError):
        services.slip_to_sign(manager, submitted.pk)
    assert services.certify(manager, submitted.pk).state == "certified"


def test_only_the_officer_the_slip_names_may_sign_it(token_mode, officers, submitted, pki):
    """The slip is printed with the name of whoever asked for it: another certifier may not sign it."""
    manager, agent = officers
    pending = services.slip_to_sign(manager, submitted.pk)
    agent.can_certify_dossiers = True
    agent.save(update_fields=["can_certify_dossiers"])
    with pytest.raises(DossierError) as refusal:
        services.certify_signed(agent, submitted.pk, pki.sign(issued(pending), "CD789012"))
    assert refusal.value.code == "slip_not_yours" and "Amina El Idrissi" in str(refusal.value)
    assert state(submitted) == "awaiting_certification" and not Certification.objects.exists()


@pytest.mark.parametrize("after", ["comment over the text", "comment in a blank corner", "freetext"])
def test_nothing_drawn_may_follow_his_signature(token_mode, officers, submitted, pki, after):
    """A note or a box added after he signed (over a digest, a name, or anywhere) is never sealed by the
    platform, even where the general rules would let a comment follow an approval signature."""
    manager, _agent = officers
    signed = pki.sign(issued(services.slip_to_sign(manager, submitted.pk)), "AB123456")
    if after == "comment over the text":
        changed = forge.annotate(signed, "/Text", (50, 600, 70, 620), "vu")
    elif after == "comment in a blank corner":
        changed = forge.annotate(signed, "/Text", (520, 40, 540, 60), "vu")
    else:
        changed = forge.add_annotation(signed)
    _d, report = services.certify_signed(manager, submitted.pk, changed)
    refused(report, code=Code.MODIFIED_AFTER_SIGNING)
    if after == "comment in a blank corner":  # what the general rules let follow a signature: refused here
        assert report.reason == "not_issued"
    assert state(submitted) == "awaiting_certification" and not Certification.objects.exists()


def test_the_slip_to_sign_is_served_only_to_the_officer_it_names(token_mode, officers, submitted, client):
    manager, agent = officers
    services.slip_to_sign(manager, submitted.pk)
    url = reverse("dossiers:pending_slip", args=[submitted.pk])
    client.force_login(agent)  # sees the dossier, but the slip names Amina El Idrissi
    assert client.get(url).status_code == 404
    assert 'data-testid="pending-slip"' not in client.get(f"/dossiers/{submitted.pk}/").content.decode()
    client.force_login(manager)
    assert client.get(url).status_code == 200
