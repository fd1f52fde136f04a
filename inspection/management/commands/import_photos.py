from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from inference.services.days import iso_date
from inspection.services.datasets import import_photos



class Command(BaseCommand):
    help = "Import unlabeled photos from a folder as uploads, skipping files already stored."

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="Folder of photos (sub-folders are not read).")
        parser.add_argument("--uploaded-on", type=iso_date, metavar="YYYY-MM-DD", help="Day the photos count as uploaded on (default: now).")
        parser.add_argument("--manifest", type=Path, help="CSV with columns file, plate, reservation, event, taken_at.")

    def handle(self, directory, uploaded_on, manifest, **options):
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a folder.")
        if manifest and not manifest.is_file():
            raise CommandError(f"Manifest {manifest} does not exist.")
        try:
            report = import_photos(directory, uploaded_on=uploaded_on, manifest=manifest)
        except ValueError as error:
            raise CommandError(str(error)) from None
        for path, reason in report.skipped:
            self.stderr.write(f"skipped {path}: {reason}")
        for path in report.existing_files:
            # The same bytes were stored before (by an earlier import or a dataset); the photo
            # keeps its first upload day, so it is not part of this day's run.
            self.stdout.write(f"already stored, kept on its first upload day: {path}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {directory}: {report.created} new photos, {report.existing} already stored, "
                f"{len(report.skipped)} files skipped."
            )
        )
