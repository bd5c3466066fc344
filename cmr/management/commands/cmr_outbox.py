"""Send the transmissions that are due or stuck, once or in a loop (embedded mode has no beat)."""

import time

from django.core.management.base import BaseCommand

from cmr import sender


class Command(BaseCommand):
    help = "Send the CMR transmissions that are due or stuck (once, or every --every seconds)."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=0, help="loop, sleeping this many seconds")

    def handle(self, *args, every=0, **options):
        while True:
            outcomes = list(sender.drain(fan_out=False).values())  # every due row, a batch at a time
            if outcomes:
                self.stdout.write(", ".join(f"{o}: {outcomes.count(o)}" for o in sorted(set(outcomes))))
            if not every:
                return
            time.sleep(every)
