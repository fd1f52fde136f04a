"""The queue page runs a fixed number of queries, however many photos the day holds."""
import datetime

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inference.models import ModelVersion, Prediction
from inspection.models import Car, Label, Photo

DAY = datetime.date(2026, 5, 14)


def add_photos(count, start):
    """Add `count` photos of DAY, each on its own car, alternating Dirt and Defect, one in four OOD."""
    labels = Label.objects.in_bulk(field_name="code")
    version, _ = ModelVersion.objects.get_or_create(
        name="queue-queries", defaults={"label_codes": sorted(labels), "weights": "models/none.pt", "ood_threshold": 1.0}
    )
    noon = timezone.make_aware(datetime.datetime.combine(DAY, datetime.time(12)))
    for index in range(start, start + count):
        car = Car.objects.create(plate=f"12가{index:04d}", zone="Gangnam")
        photo = Photo.objects.create(
            car=car, reservation_id=f"R{index}", uploaded_at=noon, file=f"photos/{index}.jpg",
            thumbnail=f"thumbnails/{index}.jpg", file_extension="jpg", sha256=f"{index:064d}",
            size_bytes=1000, width=640, height=480, status=Photo.Status.CLASSIFIED,
        )
        first, second = ("DIRT", "DEFECT") if index % 2 else ("DEFECT", "NORMAL")
        Prediction.objects.create(
            photo=photo, model_version=version, top1_label=labels[first], top1_probability=0.7,
            top2_label=labels[second], top2_probability=0.2, max_logit=0.5 if index % 4 == 0 else 5.0,
            is_ood=index % 4 == 0,
        )


def queue_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/queue/", {"date": DAY.isoformat()})
    assert response.status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_queue_page_queries_do_not_grow_with_photos(client):
    client.force_login(User.objects.create_superuser("lead", "lead@example.com", "secret-password"))

    add_photos(8, start=0)
    with_8 = queue_queries(client)
    add_photos(8, start=8)
    with_16 = queue_queries(client)

    assert with_8 > 0
    assert with_16 == with_8
