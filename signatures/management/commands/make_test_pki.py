"""``manage.py make_test_pki DIR``: a test PKI for the demo and the tests (never for production)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from signatures.testpki import P12_PASSWORD, build_pki, write_pki


class Command(BaseCommand):
    help = "Create a test PKI (root, class-3 CA, officers, CRL, platform seal, TSA) in DIR."

    def add_arguments(self, parser):
        parser.add_argument("directory", nargs="?",
                            help="default: SIGNATURES_DEMO_PKI_DIR (var/test-pki)")
        parser.add_argument("--officer", action="append", default=[], metavar="CIN=FULL NAME",
                            help="also give this person a valid officer certificate (repeatable)")
        parser.add_argument("--if-missing", action="store_true",
                            help="do nothing if DIR already holds a test PKI")
        parser.add_argument("--password", default=P12_PASSWORD,
                            help="password of the PKCS#12 files (default: %(default)s)")

    def handle(self, directory, password, if_missing, officer, **options):
        directory = Path(directory or settings.SIGNATURES_DEMO_PKI_DIR)
        if if_missing and (directory / "manifest.json").is_file():
            self.stdout.write(f"Test PKI already in {directory}.")
            return
        extra = []
        for spec in officer:
            cin, sep, name = spec.partition("=")
            if not (sep and cin.strip() and name.strip()):
                raise CommandError(f"--officer expects CIN=FULL NAME, not {spec!r}")
            extra.append((cin.strip(), name.strip()))
        manifest = write_pki(build_pki(extra_officers=extra), directory, password)
        self.stdout.write(f"Test PKI written to {directory}. Settings to use it:")
        self.stdout.write(f"  SIGNATURES_TRUST_ROOTS={manifest['trust_roots']}")
        self.stdout.write(f"  SIGNATURES_INTERMEDIATES={manifest['intermediates']}")
        self.stdout.write(f"  SIGNATURES_CRLS={manifest['crls']}")
        self.stdout.write(f"  SIGNATURES_SEAL_P12={manifest['seal_p12']}")
        self.stdout.write(f"  SIGNATURES_SEAL_P12_PASSWORD={password}")
        for officer in manifest["officers"]:
            self.stdout.write(f"  {officer['status']:8} {officer['cin']} {officer['full_name']}: "
                              f"{officer['file']}")
