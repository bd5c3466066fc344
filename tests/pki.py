"""A test PKI and signed PDFs for any app's tests.

In a conftest.py::

    from tests.pki import pki, pki_settings, signed_pdf  # noqa: F401

then in a test::

    def test_upload(pki_settings, signed_pdf):
        data = signed_pdf(cin="AB123456")            # a one-page PDF signed by that officer
        data = signed_pdf(cin="AB123456", text="Acte de deces")

``pki_settings`` points the SIGNATURES_* settings at the test PKI, so ``verify_pdf(data)`` accepts
the signature. Officers (tests/pki.py re-exports ``OFFICERS``): AB123456 Amina El Idrissi and
CD789012 Youssef Benali (valid), EE345678 (revoked), FG901234 (expired). ``pki.sign(data, cin)``
signs any PDF; ``sample_pdf(...)`` makes an unsigned one.
"""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from signatures.rendering import IssuedDocument, render_pdf
from signatures.signing import local_timestamper, sign_pdf, signer_from_keys
from signatures.testpki import OFFICERS, P12_PASSWORD, Credential, TestPKI, build_pki, write_pki
from signatures.trust import TrustStore

__all__ = ["OFFICERS", "PkiFiles", "pki", "pki_settings", "sample_pdf", "signed_pdf"]

DER = serialization.Encoding.DER


def signer_for(cred: Credential):
    key = cred.key.private_bytes(DER, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    return signer_from_keys(cred.cert.public_bytes(DER), key,
                            [c.public_bytes(DER) for c in cred.chain])


def sample_pdf(text="Attestation de travail", *, reference="TEST-1", lines=()) -> bytes:
    """An unsigned one-page PDF. Its page text is compressed; its reference is also written, as is, in the
    document information (``/Subject (TEST-1)``), where a test can find and alter it."""
    return render_pdf(IssuedDocument(
        title=text, reference=reference, issued_at=dt.datetime(2026, 1, 15, tzinfo=dt.UTC),
        fields=[("Montant", "1000 DH"), *lines]))


@dataclass
class PkiFiles:
    pki: TestPKI
    directory: Path
    manifest: dict

    @property
    def trust(self) -> TrustStore:
        m = self.manifest
        return TrustStore.from_paths([m["trust_roots"]], [m["intermediates"]], [m["crls"]])

    def credential(self, who: str) -> Credential:
        """By CIN, or by name: officer-valid, officer-other, ..., seal, tsa, rogue-officer."""
        if who in ("seal", "tsa"):
            return getattr(self.pki, who)
        if who == "rogue-officer":
            return self.pki.rogue
        if who in self.pki.officers:
            return self.pki.officers[who]
        return self.pki.officer_by_cin(who)

    def signer(self, who: str):
        return signer_for(self.credential(who))

    def timestamper(self):
        return local_timestamper(self.directory / "p12/tsa.p12", P12_PASSWORD)

    def sign(self, data: bytes, who: str = "AB123456", **kwargs) -> bytes:
        """Sign ``data`` as an officer (CIN or name); B-T and up use the test TSA."""
        if kwargs.get("level", "B-B") != "B-B":
            kwargs.setdefault("timestamper", self.timestamper())
            kwargs.setdefault("trust", self.trust)
        return sign_pdf(data, self.signer(who), **kwargs)


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> PkiFiles:
    directory = tmp_path_factory.mktemp("pki")
    built = build_pki()
    return PkiFiles(built, directory, write_pki(built, directory))


@pytest.fixture
def pki_settings(settings, pki):
    m = pki.manifest
    settings.SIGNATURES_TRUST_ROOTS = [m["trust_roots"]]
    settings.SIGNATURES_INTERMEDIATES = [m["intermediates"]]
    settings.SIGNATURES_CRLS = [m["crls"]]
    settings.SIGNATURES_ALLOW_FETCHING = False
    settings.SIGNATURES_SEAL_P12 = m["seal_p12"]
    settings.SIGNATURES_SEAL_P12_PASSWORD = m["password"]
    return settings


@pytest.fixture
def signed_pdf(pki):
    def make(cin="AB123456", text="Attestation de travail", **kwargs) -> bytes:
        return pki.sign(sample_pdf(text), cin, **kwargs)
    return make
