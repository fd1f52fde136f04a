import time

from django.core.management.base import BaseCommand, CommandError

from inference.management.commands.run_daily import iso_date
from inference.services import seeding
from inference.services.days import yesterday


class Command(BaseCommand):
    help = (
        "Fill one day with synthetic photos and predictions for load tests; every photo shares one "
        "placeholder file. Never run it on a production database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", type=iso_date, metavar="YYYY-MM-DD", help="Day of upload (default: yesterday).")
        parser.add_argument("--photos", type=int, default=100_000, help="Photos to insert, each with one prediction (default 100000).")
        parser.add_argument("--cars", type=int, default=5_000, help="Cars the photos belong to (default 5000).")
        parser.add_argument("--seed", type=int, default=0, help="Random seed of the label mix (default 0).")

    def handle(self, date, photos, cars, seed, **options):
        if photos < 1 or cars < 1:
            raise CommandError(f"--photos ({photos}) and --cars ({cars}) must be at least 1.")
        day = date or yesterday()
        started = time.monotonic()
        try:
            version = seeding.seed_day(day, photos, cars, seed=seed, progress=lambda message: self.stdout.write(f"  {message}"))
        except seeding.AlreadySeeded as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(
            f"Seeded {photos} photos with predictions by {version} on {day} for {cars} cars in {time.monotonic() - started:.1f} s."
        ))
