import time

from django.core.management.base import BaseCommand, CommandError

from inference.models import InferenceRun
from inference.services import runs
from inference.services.days import iso_date, yesterday



class Command(BaseCommand):
    help = "Queue a day's photos for classification by the active model version, as the daily schedule does."

    def add_arguments(self, parser):
        parser.add_argument("--date", type=iso_date, metavar="YYYY-MM-DD", help="Day of upload (default: yesterday).")
        parser.add_argument("--wait", action="store_true", help="Wait until workers finish the run and print its counts.")
        parser.add_argument("--timeout", type=float, default=3600, help="Seconds to wait with --wait.")

    def handle(self, date, wait, timeout, **options):
        day = date or yesterday()
        try:
            run = runs.start_run(day)
        except runs.NoActiveModel as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Run {run.id}: {run.photo_count} photos of {day} queued in {run.batch_count} batches for {run.model_version}.")
        if not wait:
            return

        deadline = time.monotonic() + timeout
        while not run.is_finished:
            if time.monotonic() > deadline:
                raise CommandError(
                    f"Run {run.id} not finished after {timeout:.0f} s: {run.done_count}/{run.photo_count} done. "
                    "Is a worker consuming the 'inference' queue?"
                )
            time.sleep(1)
            run.refresh_from_db()
        summary = (
            f"Run {run.id} {run.status}: {run.classified_count} classified, "
            f"{run.ood_count} out of distribution, {run.failed_count} failed."
        )
        if run.status != InferenceRun.Status.COMPLETED:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))
