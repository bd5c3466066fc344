"""Generate plausible affiliates (demo, benchmarks): ``generate_affiliates --count N --seed S``.

``generate_affiliates --demo`` is what ``load_demo`` calls: once (it does nothing when affiliates
exist), 150 affiliates in Tanger (01.511.01.0, the demo manager's commune) starting with
hand-made cases, then 3,000 spread over the country.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Collectivity
from affiliates import services
from affiliates.models import Affiliate

DEMO_COLLECTIVITY = "01.511.01.0"


class Command(BaseCommand):
    help = (
        "Generate N plausible affiliates with careers, leave, salaries and families, spread over "
        "the real collectivities (or all in one with --collectivity)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--collectivity", help="HCP code: put every affiliate there")
        parser.add_argument(
            "--showcase",
            action="store_true",
            help="with --collectivity: start with hand-made cases (age limit near, "
            "article 4 thresholds, leave, 29 February)",
        )
        parser.add_argument(
            "--demo",
            action="store_true",
            help=f"demo data, once: 150 in {DEMO_COLLECTIVITY} with the hand-made cases, "
            "3,000 elsewhere",
        )

    def handle(self, *args, count, seed, collectivity, showcase, demo, verbosity, **options):
        if settings.PRODUCTION:
            raise CommandError("Refusing to generate fake affiliates in production mode.")
        if not Collectivity.objects.exists():
            raise CommandError("No collectivity is loaded: run load_collectivities first.")
        if demo:
            if Affiliate.objects.exists():
                if verbosity:
                    self.stdout.write("Affiliates already present: demo affiliates not generated.")
                return
            runs = [(150, 1, DEMO_COLLECTIVITY, True), (3000, 2, None, False)]
        else:
            if count is None or count < 1:
                raise CommandError("--count must be at least 1 (or use --demo).")
            if showcase and not collectivity:
                raise CommandError("--showcase needs --collectivity.")
            if collectivity and not Collectivity.objects.filter(code=collectivity).exists():
                raise CommandError(f"Unknown collectivity code {collectivity!r}.")
            runs = [(count, seed, collectivity, showcase)]

        def progress(done):
            if verbosity > 1:
                self.stdout.write(f"  {done:,} affiliates written")

        for n, s, code, cases in runs:
            figures = services.load_generated(
                n, seed=s, collectivity_code=code, showcase=cases, progress=progress
            )
            if verbosity:
                self.stdout.write(
                    "Generated {affiliates:,} affiliates, {service_periods:,} service periods, "
                    "{salary_records:,} salary records, {family_members:,} family members in "
                    "{total_seconds}s (rows {load_seconds}s, indexes {index_seconds}s).".format(
                        **figures
                    )
                )
