"""The trust store: roots, intermediates and CRLs named in settings, as validation contexts.

Only the roots listed here are trusted, never the operating system's TLS list. Nothing is fetched
from the network unless ``SIGNATURES_ALLOW_FETCHING`` is set, and then with a timeout.
"""

import functools
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from asn1crypto import crl as asn1_crl
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from django.conf import settings
from pyhanko_certvalidator import ValidationContext

logger = logging.getLogger(__name__)

CERT_SUFFIXES = {".pem", ".crt", ".cer", ".der"}
CRL_SUFFIXES = {".crl", ".pem", ".der"}


def _files(paths, suffixes, *, warn=True):
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.iterdir() if p.suffix.lower() in suffixes)
        elif path.is_file():
            yield path
        elif warn:
            logger.warning("Signatures trust path %s does not exist", path)


def _der_blocks(data: bytes):
    if pem.detect(data):
        for _, _, der in pem.unarmor(data, multiple=True):
            yield der
    else:
        yield data


def load_certificates(paths) -> list[asn1_x509.Certificate]:
    certs = []
    for path in _files(paths, CERT_SUFFIXES):
        for der in _der_blocks(path.read_bytes()):
            cert = asn1_x509.Certificate.load(der)
            cert.native  # noqa: B018 - parse now: a broken file must fail here, not mid-validation
            certs.append(cert)
    return certs


def load_crls(paths) -> list[asn1_crl.CertificateList]:
    crls = []
    for path in _files(paths, CRL_SUFFIXES):
        for der in _der_blocks(path.read_bytes()):
            crl = asn1_crl.CertificateList.load(der)
            crl.native  # noqa: B018
            crls.append(crl)
    return crls


def revocation_index(crls) -> dict:
    """{(issuer name, serial number): revocation date} of every entry of ``crls``."""
    index = {}
    for crl in crls:
        tbs = crl["tbs_cert_list"]
        issuer = tbs["issuer"].hashable
        for entry in tbs["revoked_certificates"]:
            index[(issuer, entry["user_certificate"].native)] = entry["revocation_date"].native
    return index


@dataclass(frozen=True)
class TrustStore:
    roots: list = field(default_factory=list)
    intermediates: list = field(default_factory=list)
    crls: list = field(default_factory=list)
    allow_fetching: bool = False
    fetch_timeout: int = 10
    revocation_mode: str = "soft-fail"

    @functools.cached_property
    def revoked(self) -> dict:
        """The configured CRLs' entries, indexed once (a CRL can list many thousands)."""
        return revocation_index(self.crls)

    @classmethod
    def from_paths(cls, roots=(), intermediates=(), crls=(), **options) -> "TrustStore":
        return cls(load_certificates(roots), load_certificates(intermediates), load_crls(crls),
                   **options)

    def validation_context(self, *, moment: datetime | None = None, other_certs=(), crls=(),
                           ocsps=(), retroactive=False) -> ValidationContext:
        """A fresh context (contexts cache revocation state, so one per verification).

        ``retroactive``: when validating at a past ``moment`` (a timestamp), accept revocation
        data issued after it: a later CRL that does not list the certificate proves more.
        """
        options = {}
        if self.allow_fetching:
            from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend

            options["fetcher_backend"] = RequestsFetcherBackend(
                per_request_timeout=self.fetch_timeout)
        return ValidationContext(
            trust_roots=list(self.roots),  # a list, even empty: never the OS trust list
            other_certs=[*self.intermediates, *other_certs],
            crls=[*self.crls, *crls],
            ocsps=list(ocsps),
            moment=moment,
            allow_fetching=self.allow_fetching,
            revocation_mode=self.revocation_mode,
            retroactive_revinfo=retroactive,
            **options,
        )


def _mtimes(paths):
    files = _files(paths, CERT_SUFFIXES | CRL_SUFFIXES, warn=False)
    return tuple((str(p), p.stat().st_mtime_ns) for p in files)


@functools.lru_cache(maxsize=4)
def _cached_store(key):
    (roots, intermediates, crls, allow_fetching, timeout, mode), _ = key
    return TrustStore.from_paths(roots, intermediates, crls, allow_fetching=allow_fetching,
                                 fetch_timeout=timeout, revocation_mode=mode)


def trust_store_from_settings() -> TrustStore:
    """The configured trust store, re-read when a file named in settings changes."""
    config = (
        tuple(settings.SIGNATURES_TRUST_ROOTS),
        tuple(settings.SIGNATURES_INTERMEDIATES),
        tuple(settings.SIGNATURES_CRLS),
        settings.SIGNATURES_ALLOW_FETCHING,
        settings.SIGNATURES_FETCH_TIMEOUT,
        settings.SIGNATURES_REVOCATION_MODE,
    )
    stamps = _mtimes([*config[0], *config[1], *config[2]])
    return _cached_store((config, stamps))


def trust_store_with(roots=(), intermediates=(), crls=()) -> TrustStore:
    """The configured trust store plus the given files (the commands' --trust-root, --crl)."""
    base = trust_store_from_settings()
    if not (roots or intermediates or crls):
        return base
    return TrustStore(
        roots=[*base.roots, *load_certificates(roots)],
        intermediates=[*base.intermediates, *load_certificates(intermediates)],
        crls=[*base.crls, *load_crls(crls)],
        allow_fetching=base.allow_fetching, fetch_timeout=base.fetch_timeout,
        revocation_mode=base.revocation_mode,
    )
