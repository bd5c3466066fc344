"""A test PKI in the image of Morocco's: a root, a class-3 CA like Barid eSign's, officers, a seal.

For the demo (``manage.py make_test_pki DIR``) and the tests (``tests/pki.py``). Never for
production: the PKCS#12 password is printed in the manifest and the keys lie in the directory.

Layout written under DIR::

    trust/roots/root.pem                 the trust anchor to configure (SIGNATURES_TRUST_ROOTS)
    trust/intermediates/class3-ca.pem    the class-3 CA (SIGNATURES_INTERMEDIATES)
    trust/crls/class3-ca.crl, root.crl   DER CRLs (SIGNATURES_CRLS); the revoked officer is listed
    p12/<name>.p12                       officers, the platform seal, the TSA, a rogue officer
    keys/<name>.key.pem, certs/<name>.pem  unencrypted PKCS#8 key and certificate (for SoftHSM2)
    untrusted/rogue-root.pem             a root nobody trusts (its officer signs "validly")
    manifest.json                        names, CINs and the PKCS#12 password
"""

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

P12_PASSWORD = "test-pki"
CRL_BASE_URL = "http://crl.test-pki.invalid"

# Officers of the test PKI: (file name, full name, CIN, status).
OFFICERS = [
    ("officer-valid", "Amina El Idrissi", "AB123456", "valid"),
    ("officer-other", "Youssef Benali", "CD789012", "valid"),
    ("officer-revoked", "Karim Tazi", "EE345678", "revoked"),
    ("officer-expired", "Nadia Alaoui", "FG901234", "expired"),
]
ROGUE_OFFICER = ("rogue-officer", "Amina El Idrissi", "AB123456")


@dataclass
class Credential:
    name: str
    cert: x509.Certificate
    key: rsa.RSAPrivateKey
    chain: list = field(default_factory=list)  # issuing CAs, nearest first (no root)
    cin: str = ""
    full_name: str = ""

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def p12(self, password: str = P12_PASSWORD) -> bytes:
        return pkcs12.serialize_key_and_certificates(
            self.name.encode(),
            self.key,
            self.cert,
            self.chain or None,
            serialization.BestAvailableEncryption(password.encode()),
        )


def _key(bits=2048):
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _name(common_name, *, org=None, serial_number=None, unit=None):
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "MA")]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    if unit:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    if serial_number:
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial_number))
    return x509.Name(attrs)


def _cert(subject, key, issuer_name, issuer_key, *, not_before, not_after, ca=False,
          eku=None, path_length=None, crl_url=None):
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    if ca:
        usage = {"key_cert_sign": True, "crl_sign": True}
    elif eku == ExtendedKeyUsageOID.TIME_STAMPING:
        usage = {"digital_signature": True}
    else:
        usage = {"digital_signature": True, "content_commitment": True}
    flags = dict.fromkeys(
        ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
         "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only"), False)
    flags.update(usage)
    builder = builder.add_extension(x509.KeyUsage(**flags), critical=True)
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage([eku]), critical=True)
    if crl_url:  # like real class-3 certificates; the test PKI's URLs resolve nowhere
        builder = builder.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            [x509.UniformResourceIdentifier(crl_url)], None, None, None)]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _crl(issuer: Credential, revoked: list[Credential], now):
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.cert.subject)
        .last_update(now - dt.timedelta(hours=1))
        .next_update(now + dt.timedelta(days=30))
        .add_extension(x509.CRLNumber(1), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    )
    for cred in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(cred.cert.serial_number)
            .revocation_date(now - dt.timedelta(days=2))
            .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
            .build()
        )
    return builder.sign(issuer.key, hashes.SHA256())


@dataclass
class TestPKI:
    root: Credential
    ca: Credential
    tsa: Credential
    seal: Credential
    officers: dict  # file name -> Credential (with .cin, .full_name)
    rogue_root: Credential
    rogue: Credential
    crls: dict  # file name -> x509.CertificateRevocationList

    def officer_by_cin(self, cin: str) -> Credential:
        for cred in self.officers.values():
            if cred.cin == cin:
                return cred
        raise KeyError(cin)

    @property
    def crl_ders(self) -> list[bytes]:
        return [c.public_bytes(serialization.Encoding.DER) for c in self.crls.values()]


def build_pki(now: dt.datetime | None = None, extra_officers=()) -> TestPKI:
    """Build every key, certificate and CRL in memory (a few hundred milliseconds).

    ``extra_officers``: (CIN, full name) pairs given a valid certificate too, e.g. the demo's
    accounts; their files are named ``officer-<CIN>``.
    """
    now = now or dt.datetime.now(dt.UTC)
    day = dt.timedelta(days=1)

    root_key = _key()
    root_name = _name("E-Retraite Test Root CA", org="Test PKI of Morocco")
    root = Credential("root", _cert(root_name, root_key, root_name, root_key, ca=True,
                                    not_before=now - 3650 * day, not_after=now + 3650 * day),
                      root_key)
    ca_key = _key()
    ca_name = _name("Test Barid eSign Class 3 CA", org="Test Barid Al-Maghrib",
                    unit="Class 3 qualified signatures")
    ca = Credential("class3-ca", _cert(ca_name, ca_key, root_name, root_key, ca=True, path_length=0,
                                       not_before=now - 1825 * day, not_after=now + 1825 * day,
                                       crl_url=f"{CRL_BASE_URL}/root.crl"),
                    ca_key)

    def issue(name, subject, *, not_before, not_after, issuer=ca, eku=None, **extra):
        key = _key()
        crl_url = f"{CRL_BASE_URL}/{issuer.name}.crl" if issuer in (root, ca) else None
        cert = _cert(subject, key, issuer.cert.subject, issuer.key, eku=eku,
                     not_before=not_before, not_after=not_after, crl_url=crl_url)
        chain = [issuer.cert] if issuer is not root else []
        return Credential(name, cert, key, chain, **extra)

    officers = {}
    extra = [(f"officer-{cin}", name, cin, "valid") for cin, name in extra_officers]
    for file_name, full_name, cin, status in [*OFFICERS, *extra]:
        if status == "expired":
            window = {"not_before": now - 730 * day, "not_after": now - 2 * day}
        else:
            window = {"not_before": now - 30 * day, "not_after": now + 730 * day}
        officers[file_name] = issue(
            file_name, _name(full_name, serial_number=cin, org="Collectivite territoriale"),
            cin=cin, full_name=full_name, **window)
    seal = issue("seal", _name("e-retraite platform seal", org="e-retraite",
                               serial_number="SEAL-EREtraite"),
                 not_before=now - day, not_after=now + 730 * day)
    tsa = issue("tsa", _name("E-Retraite Test TSA", org="Test PKI of Morocco"), issuer=root,
                eku=ExtendedKeyUsageOID.TIME_STAMPING,
                not_before=now - 30 * day, not_after=now + 3650 * day)

    rogue_key = _key()
    rogue_name = _name("Rogue Root CA", org="Nobody trusts me")
    rogue_root = Credential("rogue-root", _cert(rogue_name, rogue_key, rogue_name, rogue_key,
                                                ca=True, not_before=now - 30 * day,
                                                not_after=now + 3650 * day), rogue_key)
    rname, rfull, rcin = ROGUE_OFFICER
    rogue = issue(rname, _name(rfull, serial_number=rcin), issuer=rogue_root, cin=rcin,
                  full_name=rfull, not_before=now - day, not_after=now + 365 * day)
    rogue.chain = [rogue_root.cert]

    crls = {"class3-ca": _crl(ca, [officers["officer-revoked"]], now), "root": _crl(root, [], now)}
    return TestPKI(root, ca, tsa, seal, officers, rogue_root, rogue, crls)


def _status(name):
    return {n: status for n, _, _, status in OFFICERS}.get(name, "valid")


def officer_signer(directory, cin: str):
    """A signer for the officer with this CIN, from a PKI written by ``write_pki`` (demo data)."""
    from .signing import signer_from_p12

    manifest = json.loads((Path(directory) / "manifest.json").read_text())
    for officer in manifest["officers"]:
        if officer["cin"] == cin:
            return signer_from_p12(officer["file"], manifest["password"])
    raise KeyError(f"no officer with CIN {cin} in {directory}")


def write_pki(pki: TestPKI, directory: Path, password: str = P12_PASSWORD) -> dict:
    """Write the PKI under ``directory`` (layout in the module docstring); return the manifest."""
    directory = Path(directory)
    for sub in ("trust/roots", "trust/intermediates", "trust/crls", "p12", "keys", "certs",
                "untrusted"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    (directory / "trust/roots/root.pem").write_bytes(pki.root.cert.public_bytes(pem))
    (directory / "trust/intermediates/class3-ca.pem").write_bytes(pki.ca.cert.public_bytes(pem))
    (directory / "untrusted/rogue-root.pem").write_bytes(pki.rogue_root.cert.public_bytes(pem))
    for name, crl in pki.crls.items():
        (directory / f"trust/crls/{name}.crl").write_bytes(
            crl.public_bytes(serialization.Encoding.DER))
    creds = [*pki.officers.values(), pki.seal, pki.tsa, pki.rogue]
    for cred in creds:
        (directory / f"p12/{cred.name}.p12").write_bytes(cred.p12(password))
        key_file = directory / f"keys/{cred.name}.key.pem"
        key_file.write_bytes(cred.key_pem)
        key_file.chmod(0o600)
        (directory / f"certs/{cred.name}.pem").write_bytes(cred.cert_pem)
    manifest = {
        "password": password,
        "trust_roots": str(directory / "trust/roots"),
        "intermediates": str(directory / "trust/intermediates"),
        "crls": str(directory / "trust/crls"),
        "seal_p12": str(directory / "p12/seal.p12"),
        "tsa_p12": str(directory / "p12/tsa.p12"),
        "officers": [
            {"file": str(directory / f"p12/{cred.name}.p12"), "full_name": cred.full_name,
             "cin": cred.cin, "status": _status(cred.name)}
            for cred in pki.officers.values()
        ],
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest
