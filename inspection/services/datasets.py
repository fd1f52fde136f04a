"""Importing photo folders from disk: labeled datasets and unlabeled daily uploads."""
import csv
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, time
from pathlib import Path

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from inspection import imaging
from inspection.models import Photo, TrainingLabel
from inspection.services.labels import add_training_label, current_training_label, label_lookup, resolve_label
from inspection.services.photos import Upload, store_photo

logger = logging.getLogger(__name__)

MANIFEST_COLUMNS = {"file", "plate", "reservation", "event", "taken_at"}


@dataclass
class ImportReport:
    created: int = 0
    labeled: int = 0
    existing_files: list = field(default_factory=list)
    skipped: list = field(default_factory=list)

    @property
    def existing(self):
        return len(self.existing_files)

    def skip(self, path, reason):
        logger.warning("skipped %s: %s", path, reason)
        self.skipped.append((str(path), str(reason)))


def image_files(folder):
    return sorted(path for path in Path(folder).iterdir() if path.is_file() and not path.name.startswith("."))


def import_dataset(root, report=None, progress=None):
    """Import a folder-per-label dataset: every photo with a training label of its folder.

    All folder names are checked against the label scheme before any photo is stored, so
    an unknown folder stops the import with nothing half-imported.
    """
    root = Path(root)
    report = report or ImportReport()
    lookup = label_lookup()
    folders = sorted(path for path in root.iterdir() if path.is_dir() and not path.name.startswith("."))
    if not folders:
        raise ValueError(f"{root} contains no label folders.")
    labeled_folders = [(folder, resolve_label(folder.name, lookup)) for folder in folders]

    for folder, label in labeled_folders:
        for path in image_files(folder):
            photo = _import_file(path, Upload(data=b"", original_name=path.name), report)
            if photo is None:
                continue
            current = current_training_label(photo)
            # A person's label outranks a dataset's: importing a dataset again must not
            # undo a correction an inspector or admin made since.
            corrected = current is not None and current.source != TrainingLabel.Source.DATASET
            if not corrected and (current is None or set(current.labels.all()) != {label}):
                add_training_label(photo, [label], TrainingLabel.Source.DATASET)
                report.labeled += 1
            if progress:
                progress(path)
    return report


def import_photos(root, uploaded_on=None, manifest=None, report=None, progress=None):
    """Import unlabeled uploads from a folder, with car and trip details from a CSV manifest."""
    root = Path(root)
    report = report or ImportReport()
    rows = read_manifest(manifest) if manifest else {}
    uploaded_at = None
    if uploaded_on:
        # Noon, so that the photo belongs to that day whatever the time-zone offset.
        uploaded_at = timezone.make_aware(datetime.combine(uploaded_on, time(12, 0)))

    for path in image_files(root):
        if manifest and path.resolve() == Path(manifest).resolve():
            continue
        row = rows.get(path.name, {})
        upload = Upload(
            data=b"",
            original_name=path.name,
            plate=row.get("plate", ""),
            reservation_id=row.get("reservation", ""),
            event=row.get("event") or Photo.Event.OTHER,
            taken_at=row.get("taken_at"),
            uploaded_at=uploaded_at,
        )
        _import_file(path, upload, report)
        if progress:
            progress(path)
    return report


def read_manifest(path):
    """Read a CSV with columns file, plate, reservation, event, taken_at (ISO 8601)."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = {"file"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"Manifest {path} has no 'file' column; expected columns: {', '.join(sorted(MANIFEST_COLUMNS))}.")
        rows = {}
        for line, row in enumerate(reader, start=2):
            event = (row.get("event") or "").strip()
            if event and event not in Photo.Event.values:
                raise ValueError(f"Manifest line {line}: event {event!r} is not one of {', '.join(Photo.Event.values)}.")
            taken_at = (row.get("taken_at") or "").strip()
            parsed = parse_datetime(taken_at) if taken_at else None
            if taken_at and parsed is None:
                raise ValueError(f"Manifest line {line}: taken_at {taken_at!r} is not an ISO 8601 date and time.")
            if parsed is not None and timezone.is_naive(parsed):
                parsed = timezone.make_aware(parsed)
            rows[row["file"].strip()] = {
                "plate": (row.get("plate") or "").strip(),
                "reservation": (row.get("reservation") or "").strip(),
                "event": event,
                "taken_at": parsed,
            }
    return rows


def _import_file(path, upload, report):
    try:
        data = path.read_bytes()
    except OSError as error:
        report.skip(path, error)
        return None
    try:
        photo, created = store_photo(replace(upload, data=data))
    except imaging.InvalidImage as error:
        report.skip(path, error)
        return None
    if created:
        report.created += 1
    else:
        report.existing_files.append(str(path))
    return photo
