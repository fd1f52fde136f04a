"""Synthetic days of photos and predictions, for load tests of the screens and the API.

Every seeded photo points at one shared placeholder file: what is measured is the
database and the rendering, not the storage. On PostgreSQL the rows go in with COPY,
which loads 100,000 photos in seconds; other databases get bulk_create.
"""
import hashlib
import io
import logging
import random
from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from PIL import Image

from inference.models import ModelVersion, Prediction, queue_probability
from inference.services.days import day_bounds, photos_uploaded_on
from inspection.models import Car, Label, Photo
from inspection.shared_cache import invalidate_all

logger = logging.getLogger(__name__)

PLACEHOLDER_NAME = "seed/placeholder.jpg"
SEED_VERSION_NAME = "seed-placeholder"
# Relative frequency of each label as a photo's top-1 label in a seeded day; labels of
# the scheme missing here get weight 1. An estimate of a car-sharing day's mix, where
# most photos show a normal exterior or an interior.
LABEL_WEIGHTS = {
    "NORMAL": 45, "DEFECT": 4, "DIRT": 6, "BUBBLE_WASH": 3, "CARS_INSIDE_OF_THE_WASHING_MACHINE": 3,
    "DASHBOARD": 12, "CUP_HOLDER": 5, "GLOVEBOX": 6, "WASHER_FLUID": 4, "SEAT": 12,
}
OOD_RATE = 0.02
EVENTS = [choice for choice, _ in Photo.Event.choices]
COPY_BATCH = 5000
PHOTOS_PER_RESERVATION = 8


class AlreadySeeded(RuntimeError):
    pass


def placeholder_files():
    """Store (once) and return the names of the placeholder photo and thumbnail."""
    if not default_storage.exists(PLACEHOLDER_NAME):
        output = io.BytesIO()
        Image.new("RGB", (64, 48), (128, 128, 128)).save(output, format="JPEG")
        default_storage.save(PLACEHOLDER_NAME, ContentFile(output.getvalue()))
    return PLACEHOLDER_NAME


def seed_version(label_codes):
    """Return the inactive version that owns seeded predictions; it has no weights file."""
    version, _ = ModelVersion.objects.get_or_create(
        name=SEED_VERSION_NAME,
        defaults={"label_codes": label_codes, "weights": "models/seed-placeholder.pt", "ood_threshold": 0.0},
    )
    return version


def seed_cars(count):
    cars = [Car(plate=f"SEED-{index:06d}", model_name="Seed", zone=f"Zone {index % 50}") for index in range(count)]
    Car.objects.bulk_create(cars, ignore_conflicts=True, batch_size=COPY_BATCH)
    return list(Car.objects.filter(plate__startswith="SEED-").order_by("plate").values_list("id", flat=True)[:count])


def seed_sha256(day, index):
    return hashlib.sha256(f"seed {day.isoformat()} {index}".encode()).hexdigest()


def insert_rows(model, objects):
    """Insert `objects` with COPY on PostgreSQL, bulk_create elsewhere; return how many."""
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objects, batch_size=COPY_BATCH)
        return len(objects)
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN") as copy:
        for obj in objects:
            copy.write_row([field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields])
    return len(objects)


def random_prediction(rng, photo, version, labels, codes, weights):
    """Return an unsaved prediction of `photo`, an (id, upload time) pair."""
    photo_id, uploaded_at = photo
    first, second = rng.choices(codes, weights=weights, k=1)[0], None
    while second is None or second == first:
        second = rng.choices(codes, weights=weights, k=1)[0]
    top1 = rng.uniform(0.4, 0.99)
    top2 = rng.uniform(0.0, 1.0 - top1)
    is_ood = rng.random() < OOD_RATE
    # Each seeded photo gets exactly one prediction, so it is the photo's latest.
    return Prediction(
        photo_id=photo_id, model_version=version, top1_label=labels[first], top1_probability=top1,
        top2_label=labels[second], top2_probability=top2, max_logit=rng.uniform(-1.0, 0.0) if is_ood else rng.uniform(2.0, 12.0),
        is_ood=is_ood, queue_probability=queue_probability(first, top1, second, top2), is_latest=True,
        photo_uploaded_at=uploaded_at,
    )


def seed_day(day, photo_count, car_count, seed=0, progress=None):
    """Insert `photo_count` photos uploaded on `day`, each with one prediction; return the version.

    1. One placeholder file, `car_count` cars (reused across days) and the seed version.
    2. Photos spread evenly over the day, each on a random car and reservation.
    3. One prediction per photo with a label mix like a real day's and 2% OOD.
    Raises AlreadySeeded when `day` already holds seeded photos.
    """
    if Photo.objects.filter(sha256=seed_sha256(day, 0)).exists():
        raise AlreadySeeded(f"{day} is already seeded; seed another day or use a new database.")
    rng = random.Random(seed)
    progress = progress or (lambda message: None)
    labels = Label.objects.in_bulk(field_name="code")
    codes = sorted(labels, key=lambda code: (labels[code].position, code))
    weights = [LABEL_WEIGHTS.get(code, 1) for code in codes]
    version = seed_version(codes)
    placeholder = placeholder_files()
    car_ids = seed_cars(car_count)
    start, _ = day_bounds(day)
    step = timedelta(days=1) / photo_count

    with transaction.atomic():
        for offset in range(0, photo_count, COPY_BATCH):
            indices = range(offset, min(offset + COPY_BATCH, photo_count))
            insert_rows(Photo, [seeded_photo(day, index, start + index * step, rng, car_ids, placeholder) for index in indices])
            progress(f"{indices.stop} photos")
        photos = list(photos_uploaded_on(Photo.objects.filter(original_name__startswith="seed-"), day).values_list("id", "uploaded_at"))
        for offset in range(0, len(photos), COPY_BATCH):
            chunk = photos[offset : offset + COPY_BATCH]
            insert_rows(Prediction, [random_prediction(rng, photo, version, labels, codes, weights) for photo in chunk])
            progress(f"{offset + len(chunk)} predictions")
        # COPY and bulk inserts send no model signals; the cars are shared by every day.
        invalidate_all()
    if connection.vendor == "postgresql":
        # Fresh statistics, so the planner sees the new rows as it would after autovacuum.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Photo._meta.db_table}, {Prediction._meta.db_table}, {Car._meta.db_table}")
    logger.info("seeded %d photos and predictions on %s with %d cars", photo_count, day, len(car_ids))
    return version


def seeded_photo(day, index, uploaded_at, rng, car_ids, placeholder):
    """Return an unsaved photo; photos come in reservations of 8, each on one car."""
    reservation = index // PHOTOS_PER_RESERVATION
    car_id = car_ids[reservation * 7919 % len(car_ids)] if car_ids else None
    return Photo(
        car_id=car_id,
        reservation_id=f"R{day:%Y%m%d}-{reservation:06d}",
        event=rng.choice(EVENTS),
        taken_at=uploaded_at - timedelta(minutes=1),
        uploaded_at=uploaded_at,
        file=placeholder,
        thumbnail=placeholder,
        file_extension="jpg",
        original_name=f"seed-{index}.jpg",
        sha256=seed_sha256(day, index),
        size_bytes=50_000,
        width=1280,
        height=960,
        status=Photo.Status.CLASSIFIED,
    )
