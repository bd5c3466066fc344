"""Demo data for `make run`: collectivities and one account per role, with printed logins."""

import base64
import io
import os

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Collectivity, User
from accounts.permissions import needs_second_factor
from accounts.services import load_collectivities

DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "demo-retraite-2026")
# The demo accounts' authenticator key (base32), the same for all: add it to an authenticator
# application, or print the current code with `manage.py demo_code`.
DEMO_TOTP_SECRET = os.environ.get("DEMO_TOTP_SECRET", "ERETRAITEDEMOKEYFORMAKERUNTWOSIX")

# (username, role, collectivity code, full name, staff)
DEMO_ACCOUNTS = [
    ("dgct", User.Role.DGCT_ADMIN, None, "Administrateur DGCT", True),
    ("cmr", User.Role.CMR_AGENT, None, "Agent CMR", False),
    ("AB123456", User.Role.MANAGER, "01.511.01.0", "Amina El Idrissi", False),
    ("AB654321", User.Role.AGENT, "01.511.01.0", "Salma Bennani", False),
    ("K987654", User.Role.PROVINCIAL_OFFICE, "01.511", "Bureau provincial Tanger-Assilah", False),
]


class Command(BaseCommand):
    help = "Load demo data (development only) and print one login per role."

    def add_arguments(self, parser):
        parser.add_argument("--quiet-logins", action="store_true", help="Do not print the logins.")

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("Refusing to load demo accounts in production mode.")
        load_collectivities()
        with transaction.atomic():
            manager = None
            for username, role, code, name, staff in DEMO_ACCOUNTS:
                collectivity = Collectivity.objects.get(code=code) if code else None
                user, _created = User.objects.update_or_create(
                    username=username,
                    defaults={
                        "role": role, "collectivity": collectivity, "full_name": name,
                        "email": f"{username.lower()}@demo.e-retraite.local",
                        "cin": username if collectivity else None,
                        "is_staff": staff, "is_superuser": staff, "is_active": True,
                        "can_consult_affiliates": True,
                        "can_prepare_dossiers": role in (User.Role.MANAGER, User.Role.AGENT),
                        "can_certify_dossiers": role == User.Role.MANAGER,
                        "created_by": manager if role == User.Role.AGENT else None,
                    },
                )
                user.set_password(DEMO_PASSWORD)
                user.save()
                if needs_second_factor(user):
                    _enrol_demo_application(user)
                if role == User.Role.MANAGER:
                    manager = user
        # The demo's signatures: a test PKI whose officers are the demo accounts, and signed sample PDFs.
        call_command("make_test_pki", "--if-missing", "--officer", "AB654321=Salma Bennani",
                     "--officer", "K987654=Bureau provincial Tanger-Assilah", stdout=io.StringIO())
        _write_sample_pdfs()
        call_command("generate_affiliates", "--demo", verbosity=0)
        if not options["quiet_logins"]:
            port = os.environ.get("PORT", "8000")
            self.stdout.write("")
            self.stdout.write(f"  e-retraite is starting on http://127.0.0.1:{port}/  (admin: /admin/)")
            self.stdout.write(f"  Demo logins (password for all: {DEMO_PASSWORD}):")
            for username, role, code, _name, _staff in DEMO_ACCOUNTS:
                where = f" — {Collectivity.objects.get(code=code).name_fr}" if code else ""
                self.stdout.write(f"    {User.Role(role).label:<40} {username}{where}")
            asked = ", ".join(user.username for user in User.objects.filter(
                username__in=[account[0] for account in DEMO_ACCOUNTS]) if needs_second_factor(user))
            self.stdout.write(f"  Second factor for {asked}: authenticator key {DEMO_TOTP_SECRET},")
            self.stdout.write("    or the current code from `.venv/bin/python manage.py demo_code`")
            self.stdout.write(f"  Signed sample PDFs to upload: {SAMPLES_DIR}")
            self.stdout.write("")


def _enrol_demo_application(user):
    """A confirmed authenticator application with the demo key (only that one)."""
    key = base64.b32decode(DEMO_TOTP_SECRET).hex()
    TOTPDevice.objects.filter(user=user).exclude(key=key).delete()
    TOTPDevice.objects.get_or_create(user=user, key=key, defaults={"name": "demo", "confirmed": True})


SAMPLES_DIR = settings.BASE_DIR / "var" / "demo-pdfs"
SAMPLES = [
    ("demande-de-pension", "Demande de pension", "طلب المعاش"),
    ("etat-des-services", "État des services", "بيان الخدمات"),
    ("certificat-cessation", "Certificat de cessation de paiement", "شهادة التوقف عن صرف الأجرة"),
    ("cin", "Copie de la CIN", "نسخة من البطاقة الوطنية للتعريف"),
    ("rib", "Attestation de RIB", "شهادة التعريف البنكي"),
    ("radiation", "Décision de radiation des cadres", "قرار الحذف من الأسلاك"),
]


def _write_sample_pdfs():
    """One signed PDF per common document, by the demo agent (AB654321), once."""
    from datetime import UTC, datetime

    from signatures.rendering import IssuedDocument, render_pdf
    from signatures.signing import sign_pdf
    from signatures.testpki import officer_signer

    SAMPLES_DIR.mkdir(parents=True, exist_ok=True)
    signer = None
    for name, title, title_ar in SAMPLES:
        path = SAMPLES_DIR / f"{name}.pdf"
        if path.exists():
            continue
        signer = signer or officer_signer(settings.SIGNATURES_DEMO_PKI_DIR, "AB654321")
        pdf = render_pdf(IssuedDocument(title=title, title_ar=title_ar, reference=f"DEMO-{name}",
                                        issued_at=datetime.now(UTC), issuer="Commune de Tanger"))
        path.write_bytes(sign_pdf(pdf, signer))
