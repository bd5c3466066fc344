"""``manage.py verify_pdf FILE... [--trust-root PEM]... [--crl FILE]... [--json]``.

Exit status 0 only if every file is accepted. Without --trust-root/--crl the settings' trust
store is used; with them, the given files are added to it.
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from signatures.services import verify_pdf
from signatures.trust import trust_store_with
from signatures.verification import CHANGE_LABELS


class Command(BaseCommand):
    help = "Verify the PAdES signatures of PDF files."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+")
        parser.add_argument("--trust-root", action="append", default=[],
                            help="PEM/DER root certificate or directory to trust (repeatable)")
        parser.add_argument("--intermediate", action="append", default=[])
        parser.add_argument("--crl", action="append", default=[], help="CRL file (repeatable)")
        parser.add_argument("--signer-cin", help="the CIN the signer must have")
        parser.add_argument("--json", action="store_true", help="one JSON list of reports")

    def handle(self, *args, **opts):
        trust = self._trust(opts)
        results = []
        for name in opts["files"]:
            try:
                data = Path(name).read_bytes()
            except OSError as exc:
                raise CommandError(f"cannot read {name}: {exc}") from exc
            report = verify_pdf(data, signer_must_be=opts["signer_cin"], trust=trust)
            results.append({"file": name, **report.as_dict()})
        if opts["json"]:
            self.stdout.write(json.dumps(results, indent=2, ensure_ascii=False))
        else:
            for result in results:
                self._print(result)
        if not all(r["accepted"] for r in results):
            raise SystemExit(1)

    def _trust(self, opts):
        try:
            return trust_store_with(opts["trust_root"], opts["intermediate"], opts["crl"])
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot load the trust files: {exc}") from exc

    def _print(self, result):
        style = self.style.SUCCESS if result["accepted"] else self.style.ERROR
        self.stdout.write(style(f"{result['file']}: {result['code']}"))
        self.stdout.write(f"  {result['message']}")
        if result["detail"]:
            self.stdout.write(f"  detail: {result['detail']}")
        for sig in result["signatures"]:
            self.stdout.write(
                f"  - {sig['field_name']}: {sig['code']}, signer {sig['signer']} "
                f"(CIN {sig['signer_cin'] or '-'}), serial {sig['serial']}, issuer {sig['issuer']}")
            self.stdout.write(
                f"    signed {sig['signing_time'] or '?'}, {sig['pades_level'] or 'not PAdES'}, "
                f"{sig['digest_algorithm']}, coverage {sig['coverage']}, "
                f"changes after: {sig['modification_level'] or '?'}")
            flags = ("intact", "valid", "trusted", "revoked", "expired", "timestamped",
                     "modified_after_signing")
            self.stdout.write("    " + ", ".join(f"{f}={'yes' if sig[f] else 'no'}" for f in flags))
            for change in sig.get("changes_after", []):
                mark = "allowed" if change["permitted"] else "NOT ALLOWED"
                label = CHANGE_LABELS.get(change["kind"], change["kind"])
                self.stdout.write(f"    after it: {label} ({change['where']}): {mark}")
