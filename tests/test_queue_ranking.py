"""The queue ranks car groups in SQL: a page costs the same queries and rows however many groups the day has."""
import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inference.models import ModelVersion, Prediction
from inference.services.predictions import record_predictions
from inspection.models import Car, Label, Photo
from inspection.services.queue import QueueFilters, ood_count, ood_page, queue_page

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 5, 14)
PAGE = 3


def add_groups(count, start):
    """Add `count` car groups of DAY, two Dirt photos each (one reservation per car), with distinct urgencies."""
    labels = Label.objects.in_bulk(field_name="code")
    version, _ = ModelVersion.objects.get_or_create(
        name="queue-ranking", defaults={"label_codes": sorted(labels), "weights": "models/none.pt", "ood_threshold": 1.0}
    )
    noon = timezone.make_aware(datetime.datetime.combine(DAY, datetime.time(12)))
    for index in range(start, start + count):
        car = Car.objects.create(plate=f"12가{index:04d}", zone="Gangnam")
        for photo_number in range(2):
            number = index * 2 + photo_number
            photo = Photo.objects.create(
                car=car, reservation_id=f"R{index}", uploaded_at=noon, file=f"photos/{number}.jpg",
                thumbnail=f"thumbnails/{number}.jpg", file_extension="jpg", sha256=f"{number:064d}",
                size_bytes=1000, width=640, height=480, status=Photo.Status.CLASSIFIED,
            )
            Prediction.objects.create(
                photo=photo, model_version=version, top1_label=labels["DIRT"], top1_probability=0.5 + number / 1000,
                top2_label=labels["NORMAL"], top2_probability=0.1, max_logit=5.0, is_ood=False,
            )


def first_page(filters=QueueFilters()):
    """Return (groups, next cursor, queries, prediction rows the queries fetched) of the first page."""
    with CaptureQueriesContext(connection) as queries:
        groups, next_cursor = queue_page(DAY, filters, size=PAGE)
    return groups, next_cursor, len(queries), sum(len(group.items) for group in groups)


@pytest.mark.parametrize("filters", [QueueFilters(), QueueFilters(label="DIRT", reviewed="no", min_probability=0.1)])
def test_page_cost_does_not_grow_with_groups(filters):
    add_groups(10, start=0)
    groups_10, _, queries_10, rows_10 = first_page(filters)
    add_groups(10, start=10)
    groups_20, next_cursor, queries_20, rows_20 = first_page(filters)

    assert queries_20 == queries_10
    assert len(groups_10) == len(groups_20) == PAGE
    assert rows_10 == rows_20 == PAGE * 2
    assert next_cursor


def test_ranking_query_is_limited_to_page():
    add_groups(20, start=0)

    with CaptureQueriesContext(connection) as queries:
        queue_page(DAY, size=PAGE)

    ranking = queries.captured_queries[0]["sql"]
    assert "GROUP BY" not in ranking.upper()
    assert ranking.rstrip().upper().endswith(f"LIMIT {PAGE + 1}")


def test_newest_prediction_alone_ranks_the_photo():
    add_groups(1, start=0)
    photo = Photo.objects.order_by("pk").first()
    labels = Label.objects.in_bulk(field_name="code")
    newer = ModelVersion.objects.create(name="newer", label_codes=sorted(labels), weights="models/newer.pt", ood_threshold=1.0)

    Prediction.objects.create(
        photo=photo, model_version=newer, top1_label=labels["NORMAL"], top1_probability=0.9,
        top2_label=labels["SEAT"], top2_probability=0.05, max_logit=5.0, is_ood=False,
    )

    assert list(Prediction.objects.filter(photo=photo, is_latest=True).values_list("model_version__name", flat=True)) == ["newer"]
    (group,), _ = queue_page(DAY)
    assert photo not in group.photos
    assert len(group.items) == 1


def test_recorded_predictions_move_the_latest_flag():
    add_groups(1, start=0)
    photo = Photo.objects.order_by("pk").first()
    codes = sorted(Label.objects.values_list("code", flat=True))
    newer = ModelVersion.objects.create(name="newer", label_codes=codes, weights="models/newer.pt", ood_threshold=1.0)
    logits = [5.0 if code == "DEFECT" else 0.0 for code in codes]

    record_predictions(newer, {photo.pk: logits})

    latest = Prediction.objects.get(photo=photo, is_latest=True)
    assert latest.model_version == newer
    assert latest.queue_probability == pytest.approx(latest.top1_probability)
    assert latest.top1_label.code == "DEFECT"
    assert Prediction.objects.filter(photo=photo).count() == 2


def test_photo_without_car_groups_alone():
    add_groups(1, start=0)
    labels = Label.objects.in_bulk(field_name="code")
    version = ModelVersion.objects.get(name="queue-ranking")
    noon = timezone.make_aware(datetime.datetime.combine(DAY, datetime.time(12)))
    lone = Photo.objects.create(
        uploaded_at=noon, file="photos/lone.jpg", thumbnail="thumbnails/lone.jpg", file_extension="jpg",
        sha256="f" * 64, size_bytes=1000, width=640, height=480, status=Photo.Status.CLASSIFIED,
    )
    Prediction.objects.create(
        photo=lone, model_version=version, top1_label=labels["DEFECT"], top1_probability=0.99,
        top2_label=labels["NORMAL"], top2_probability=0.01, max_logit=5.0, is_ood=False,
    )

    unreviewed, _ = queue_page(DAY, QueueFilters(reviewed="no"))
    reviewed, _ = queue_page(DAY, QueueFilters(reviewed="yes"))

    assert unreviewed[0].car is None
    assert unreviewed[0].photos == [lone]
    assert len(unreviewed) == 2
    assert reviewed == []


def test_ood_pages_follow_the_cursor_without_repeats():
    add_groups(3, start=0)
    Prediction.objects.update(is_ood=True)

    first, cursor = ood_page(DAY, size=4)
    second, last_cursor = ood_page(DAY, after=cursor, size=4)

    logits = [item.prediction.max_logit for item in first + second]
    assert len(first) == 4
    assert len(second) == 2
    assert last_cursor == ""
    assert len({item.photo.pk for item in first + second}) == 6
    assert logits == sorted(logits)
    assert ood_count(DAY) == 6
