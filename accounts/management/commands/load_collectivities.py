from django.core.management.base import BaseCommand

from accounts.services import load_collectivities


class Command(BaseCommand):
    help = "Load Morocco's regions, prefectures/provinces and communes (HCP codes, FR/AR names). Idempotent."

    def handle(self, *args, **options):
        counts = load_collectivities()
        self.stdout.write(
            f"Collectivities: {counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged."
        )
