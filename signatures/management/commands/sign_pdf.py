"""``manage.py sign_pdf IN OUT``: sign with a PKCS#12 file or a PKCS#11 token (class-3 token)."""

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from signatures.services import (
    SigningError,
    local_timestamper,
    pkcs11_signer,
    sign_pdf,
    signer_from_p12,
)
from signatures.signing import LEVELS
from signatures.trust import trust_store_with


class Command(BaseCommand):
    help = "Sign a PDF (PAdES) with a PKCS#12 file or a PKCS#11 token; secrets come from env vars."

    def add_arguments(self, parser):
        parser.add_argument("input")
        parser.add_argument("output")
        parser.add_argument("--p12", help="PKCS#12 file holding the key and certificate")
        parser.add_argument("--p12-password-env", default="SIGN_P12_PASSWORD",
                            help="environment variable holding its password (%(default)s)")
        parser.add_argument("--pkcs11-lib", help="PKCS#11 module, e.g. the token's .so")
        parser.add_argument("--token-label")
        parser.add_argument("--key-label")
        parser.add_argument("--cert-label", help="defaults to the key label")
        parser.add_argument("--pin-env", default="SIGN_PIN",
                            help="environment variable holding the token PIN (%(default)s)")
        parser.add_argument("--chain", action="append", default=[],
                            help="PEM/DER issuing CA certificate to embed (repeatable)")
        parser.add_argument("--level", choices=LEVELS, default="B-B")
        parser.add_argument("--tsa-p12", help="a local TSA certificate (tests/demo); otherwise "
                                              "SIGNATURES_TSA_URL is used from B-T up")
        parser.add_argument("--tsa-password-env", default="SIGN_TSA_PASSWORD")
        parser.add_argument("--trust-root", action="append", default=[],
                            help="for B-LT/B-LTA: root to validate the signer's chain against, "
                                 "added to SIGNATURES_TRUST_ROOTS (repeatable)")
        parser.add_argument("--crl", action="append", default=[],
                            help="for B-LT/B-LTA: CRL to embed, added to SIGNATURES_CRLS")
        parser.add_argument("--reason")
        parser.add_argument("--location")
        parser.add_argument("--field-name")

    def handle(self, *args, **opts):
        data = self._read(opts["input"])
        timestamper = None
        if opts["tsa_p12"]:
            timestamper = local_timestamper(opts["tsa_p12"], self._secret(opts["tsa_password_env"]))
        try:
            trust = trust_store_with(opts["trust_root"], (), opts["crl"])
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot load the trust files: {exc}") from exc
        kwargs = {"level": opts["level"], "timestamper": timestamper, "reason": opts["reason"],
                  "location": opts["location"], "field_name": opts["field_name"], "trust": trust}
        try:
            if opts["p12"] and opts["pkcs11_lib"]:
                raise CommandError("choose --p12 or --pkcs11-lib, not both")
            if opts["p12"]:
                signer = signer_from_p12(opts["p12"], self._secret(opts["p12_password_env"]))
                signed = sign_pdf(data, signer, **kwargs)
            elif opts["pkcs11_lib"]:
                if not (opts["token_label"] and opts["key_label"]):
                    raise CommandError("--pkcs11-lib needs --token-label and --key-label")
                chain = [self._der(Path(p)) for p in opts["chain"]]
                with pkcs11_signer(opts["pkcs11_lib"], token_label=opts["token_label"],
                                   key_label=opts["key_label"], cert_label=opts["cert_label"],
                                   pin=self._secret(opts["pin_env"]), chain_ders=chain) as signer:
                    signed = sign_pdf(data, signer, **kwargs)
            else:
                raise CommandError("give --p12 FILE or --pkcs11-lib LIB")
        except SigningError as exc:
            raise CommandError(str(exc)) from exc
        Path(opts["output"]).write_bytes(signed)
        self.stdout.write(f"Signed ({opts['level']}): {opts['output']}")

    @staticmethod
    def _read(path):
        try:
            return Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc}") from exc

    @staticmethod
    def _secret(var):
        value = os.environ.get(var)
        if value is None:
            raise CommandError(f"set the environment variable {var}")
        return value

    @staticmethod
    def _der(path):
        from asn1crypto import pem

        data = path.read_bytes()
        return pem.unarmor(data)[2] if pem.detect(data) else data
