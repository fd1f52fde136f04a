from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from inspection.services.datasets import import_dataset
from inspection.services.labels import UnknownLabel


class Command(BaseCommand):
    help = "Import a folder-per-label dataset (e.g. 1_DEFECT/, dirt/) as photos with training labels."

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="Folder whose sub-folders are named after labels.")

    def handle(self, directory, **options):
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a folder.")
        try:
            report = import_dataset(directory, progress=lambda path: self.stdout.write(f"  {path.parent.name}/{path.name}"))
        except (UnknownLabel, ValueError) as error:
            raise CommandError(str(error)) from None
        for path, reason in report.skipped:
            self.stderr.write(f"skipped {path}: {reason}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {directory}: {report.created} new photos, {report.existing} already stored, "
                f"{report.labeled} training labels added, {len(report.skipped)} files skipped."
            )
        )
