"""Generate plausible affiliates (demo, benchmarks): ``generate_affiliates --count N --seed S``."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Collectivity
from affiliates import services


class Command(BaseCommand):
    help = (
        "Generate N plausible affiliates with careers, leave, salaries and families, spread over "
        "the real collectivities (or all in one with --collectivity)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--collectivity", help="HCP code: put every affiliate there")
        parser.add_argument(
            "--showcase",
            action="store_true",
            help="with --collectivity: start with hand-made cases (age limit near, "
            "article 4 thresholds, leave, 29 February)",
        )

    def handle(self, *args, count, seed, collectivity, showcase, verbosity, **options):
        if settings.PRODUCTION:
            raise CommandError("Refusing to generate fake affiliates in production mode.")
        if count < 1:
            raise CommandError("--count must be at least 1.")
        if showcase and not collectivity:
            raise CommandError("--showcase needs --collectivity.")
        if collectivity and not Collectivity.objects.filter(code=collectivity).exists():
            raise CommandError(f"Unknown collectivity code {collectivity!r}.")
        if not Collectivity.objects.exists():
            raise CommandError("No collectivity is loaded: run load_collectivities first.")

        def progress(done):
            if verbosity > 1:
                self.stdout.write(f"  {done:,} affiliates written")

        figures = services.load_generated(
            count, seed=seed, collectivity_code=collectivity, showcase=showcase, progress=progress
        )
        if verbosity:
            self.stdout.write(
                "Generated {affiliates:,} affiliates, {service_periods:,} service periods, "
                "{salary_records:,} salary records, {family_members:,} family members in "
                "{total_seconds}s (rows {load_seconds}s, indexes {index_seconds}s).".format(
                    **figures
                )
            )
