"""The operators' commands: make_test_pki, sign_pdf (PKCS#12 and a SoftHSM2 token), verify_pdf."""

import json
from io import StringIO
from pathlib import Path

import pytest
from cryptography import x509
from django.core.management import CommandError, call_command

from signatures.services import Code, sign_pdf, verify_pdf
from signatures.testpki import officer_signer
from tests.pki import sample_pdf
from tests.softhsm import SOFTHSM_LIB
from tests.softhsm import softhsm_token as make_softhsm_token

pytestmark = pytest.mark.django_db



def run(*args):
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def verify_cli(*args):
    """(exit status, stdout) of verify_pdf."""
    out = StringIO()
    try:
        call_command("verify_pdf", *args, stdout=out)
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


def test_make_test_pki_writes_a_usable_pki(tmp_path, settings, monkeypatch):
    output = run("make_test_pki", str(tmp_path / "pki"))
    manifest = json.loads((tmp_path / "pki/manifest.json").read_text())
    assert "SIGNATURES_TRUST_ROOTS=" in output
    statuses = {o["status"] for o in manifest["officers"]}
    assert statuses == {"valid", "revoked", "expired"}
    for path in ("trust/roots/root.pem", "trust/intermediates/class3-ca.pem",
                 "trust/crls/class3-ca.crl", "p12/seal.p12", "p12/officer-valid.p12"):
        assert (tmp_path / "pki" / path).is_file(), path
    def cert(name):
        return x509.load_pem_x509_certificate((tmp_path / f"pki/certs/{name}.pem").read_bytes())

    officer = cert("officer-valid")
    serial = officer.subject.get_attributes_for_oid(x509.oid.NameOID.SERIAL_NUMBER)[0].value
    assert serial == "AB123456"
    crl = x509.load_der_x509_crl((tmp_path / "pki/trust/crls/class3-ca.crl").read_bytes())
    revoked = cert("officer-revoked").serial_number
    assert crl.get_revoked_certificate_by_serial_number(revoked) is not None

    # the written files work end to end: sign with a .p12, verify with the written trust
    settings.SIGNATURES_TRUST_ROOTS = [manifest["trust_roots"]]
    settings.SIGNATURES_CRLS = [manifest["crls"]]
    source, signed = tmp_path / "in.pdf", tmp_path / "out.pdf"
    source.write_bytes(sample_pdf())
    monkeypatch.setenv("SIGN_P12_PASSWORD", manifest["password"])
    run("sign_pdf", str(source), str(signed), "--p12", str(tmp_path / "pki/p12/officer-valid.p12"))
    assert verify_pdf(signed.read_bytes(), signer_must_be="AB123456").code == Code.OK


def test_make_test_pki_for_demo_accounts(tmp_path, settings):
    run("make_test_pki", str(tmp_path), "--officer", "JK112233=Salma Berrada")
    assert "already" in run("make_test_pki", str(tmp_path), "--if-missing")
    settings.SIGNATURES_TRUST_ROOTS = [str(tmp_path / "trust/roots")]
    settings.SIGNATURES_CRLS = [str(tmp_path / "trust/crls")]
    data = sign_pdf(sample_pdf(), officer_signer(tmp_path, "JK112233"))
    report = verify_pdf(data, signer_must_be="JK112233")
    assert report.code == Code.OK and report.signatures[0].signer == "Salma Berrada"
    with pytest.raises(CommandError, match="CIN=FULL NAME"):
        run("make_test_pki", str(tmp_path / "x"), "--officer", "nobody")


@pytest.fixture
def pdf_in(tmp_path):
    path = tmp_path / "in.pdf"
    path.write_bytes(sample_pdf())
    return path


def test_sign_with_p12_password_from_environment(pki, pki_settings, pdf_in, tmp_path, monkeypatch):
    out = tmp_path / "signed.pdf"
    p12 = str(pki.directory / "p12/officer-valid.p12")
    with pytest.raises(CommandError, match="SIGN_P12_PASSWORD"):
        run("sign_pdf", str(pdf_in), str(out), "--p12", p12)
    monkeypatch.setenv("SIGN_P12_PASSWORD", "wrong")
    with pytest.raises(CommandError, match="PKCS#12"):
        run("sign_pdf", str(pdf_in), str(out), "--p12", p12)
    assert not out.exists()
    monkeypatch.setenv("SIGN_P12_PASSWORD", pki.manifest["password"])
    run("sign_pdf", str(pdf_in), str(out), "--p12", p12, "--reason", "Attestation")
    report = verify_pdf(out.read_bytes())
    assert report.code == Code.OK and report.signatures[0].pades_level == "B-B"


def test_sign_long_term_with_embedded_revocation_data(pki, pki_settings, pdf_in, tmp_path,
                                                      monkeypatch):
    monkeypatch.setenv("SIGN_P12_PASSWORD", pki.manifest["password"])
    monkeypatch.setenv("SIGN_TSA_PASSWORD", pki.manifest["password"])
    out = tmp_path / "lt.pdf"
    run("sign_pdf", str(pdf_in), str(out), "--p12", str(pki.directory / "p12/officer-valid.p12"),
        "--level", "B-LT", "--tsa-p12", str(pki.directory / "p12/tsa.p12"))
    data = out.read_bytes()
    assert b"/DSS" in data and b"/CRLs" in data
    report = verify_pdf(data)
    assert report.code == Code.OK and report.signatures[0].pades_level == "B-LT"


def test_sign_needs_a_key(pdf_in, tmp_path):
    with pytest.raises(CommandError, match="--p12"):
        run("sign_pdf", str(pdf_in), str(tmp_path / "x.pdf"))


@pytest.fixture(scope="session")
def softhsm_token(pki):
    """A SoftHSM2 token holding officer AB123456's key and certificate, like a class-3 token."""
    return make_softhsm_token(pki)


def test_sign_with_pkcs11_token(pki, pki_settings, softhsm_token, pdf_in, tmp_path, monkeypatch):
    out = tmp_path / "token-signed.pdf"
    args = ["sign_pdf", str(pdf_in), str(out), "--pkcs11-lib", SOFTHSM_LIB,
            "--token-label", softhsm_token["label"], "--key-label", softhsm_token["key_label"],
            "--chain", str(pki.directory / "trust/intermediates/class3-ca.pem")]
    monkeypatch.setenv("SIGN_PIN", "0000")
    with pytest.raises(CommandError, match="PKCS#11|token"):
        run(*args)
    monkeypatch.setenv("SIGN_PIN", softhsm_token["pin"])
    run(*args)
    report = verify_pdf(out.read_bytes(), signer_must_be="AB123456")
    assert report.code == Code.OK, report.detail
    assert report.signatures[0].signer == "Amina El Idrissi"


def test_verify_cli_json_and_exit_status(pki, settings, tmp_path):
    settings.SIGNATURES_TRUST_ROOTS, settings.SIGNATURES_CRLS = [], []
    good, revoked, plain = tmp_path / "good.pdf", tmp_path / "revoked.pdf", tmp_path / "plain.pdf"
    good.write_bytes(pki.sign(sample_pdf(), "AB123456"))
    revoked.write_bytes(pki.sign(sample_pdf(), "EE345678"))
    plain.write_bytes(sample_pdf())
    root = str(pki.directory / "trust/roots/root.pem")
    crl = str(pki.directory / "trust/crls/class3-ca.crl")

    status, _ = verify_cli(str(good))
    assert status == 1  # no trust configured: nothing is trusted
    status, out = verify_cli(str(good), "--trust-root", root, "--json")
    assert status == 0
    (result,) = json.loads(out)
    assert result["file"] == str(good) and result["code"] == "OK" and result["accepted"] is True
    fields = {"signer", "issuer", "serial", "signing_time", "intact", "valid", "trusted",
              "coverage", "modified_after_signing", "modification_level", "revoked", "expired",
              "timestamped", "pades_level", "digest_algorithm"}
    assert fields <= set(result["signatures"][0])

    status, out = verify_cli(str(good), str(revoked), str(plain), "--trust-root", root,
                             "--crl", crl, "--json")
    assert status == 1
    assert [r["code"] for r in json.loads(out)] == ["OK", "CERTIFICATE_REVOKED", "NO_SIGNATURE"]

    status, out = verify_cli(str(good), "--trust-root", root)
    assert status == 0 and "OK" in out and "Amina El Idrissi" in out


def test_verify_cli_unreadable_file(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("verify_pdf", str(tmp_path / "missing.pdf"))


def test_verify_cli_fields_are_named_as_the_service(pki, pki_settings, tmp_path):
    path = Path(tmp_path / "a.pdf")
    path.write_bytes(pki.sign(sample_pdf(), "AB123456", level="B-T"))
    status, out = verify_cli(str(path), "--json")
    sig = json.loads(out)[0]["signatures"][0]
    assert status == 0 and sig["timestamped"] is True and sig["pades_level"] == "B-T"
