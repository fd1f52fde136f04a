"""Daily runs and prediction writing, without a worker: the parts that must be exact."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from django.db import transaction

from inference.models import InferenceRun, InferenceRunItem, Prediction
from inference.services import runs
from inference.services.predictions import record_failures, record_predictions
from inspection.models import Photo
from tests.factories import make_photo, make_prediction, make_version

pytestmark = pytest.mark.django_db
DAY = date(2026, 12, 3)


def test_run_queues_only_the_days_unclassified_photos(django_capture_on_commit_callbacks):
    version = make_version()
    todays = [make_photo(DAY, seed=i) for i in range(3)]
    make_photo(DAY - timedelta(days=1), seed=10)
    make_prediction(todays[0], version, "DIRT", 0.9, "NORMAL", 0.1)

    with django_capture_on_commit_callbacks() as callbacks:
        run = runs.start_run(DAY, batch_size=1)

    assert run.photo_count == 2
    assert run.batch_count == 2
    assert set(run.items.values_list("photo_id", flat=True)) == {todays[1].id, todays[2].id}
    assert len(callbacks) == 2


def test_day_boundaries_follow_the_configured_time_zone():
    version = make_version()
    # 23:30 in Seoul on Dec 3 is 14:30 UTC on Dec 3; 00:30 in Seoul on Dec 4 is 15:30 UTC on Dec 3.
    late = make_photo(seed=1)
    early_next = make_photo(seed=2)
    seoul = ZoneInfo("Asia/Seoul")
    Photo.objects.filter(id=late.id).update(uploaded_at=datetime(2026, 12, 3, 23, 30, tzinfo=seoul))
    Photo.objects.filter(id=early_next.id).update(uploaded_at=datetime(2026, 12, 4, 0, 30, tzinfo=seoul))

    run = runs.start_run(DAY, version)

    assert list(run.items.values_list("photo_id", flat=True)) == [late.id]


def test_run_without_active_model_is_refused():
    make_photo(DAY, seed=1)

    with pytest.raises(runs.NoActiveModel, match="manage.py train"):
        runs.start_run(DAY)

    assert InferenceRun.objects.count() == 0


def test_empty_day_completes_at_once():
    make_version()

    run = runs.start_run(DAY)

    assert run.status == InferenceRun.Status.COMPLETED
    assert run.photo_count == 0


def test_predictions_written_twice_are_stored_once():
    version = make_version(threshold=1.0)
    photo = make_photo(DAY, seed=1)
    logits = {photo.id: np.array([0.2, 3.0, 2.5])}

    first = record_predictions(version, logits)
    second = record_predictions(version, logits)

    assert (first, second) == (1, 0)
    prediction = Prediction.objects.get()
    assert (prediction.top1_label.code, prediction.top2_label.code) == ("DEFECT", "DIRT")
    assert prediction.top1_probability > prediction.top2_probability
    assert prediction.is_ood is False


def test_maximum_logit_under_threshold_flags_ood():
    version = make_version(threshold=2.0)
    photo = make_photo(DAY, seed=1)

    record_predictions(version, {photo.id: np.array([1.9, 0.5, 0.1])})

    assert Prediction.objects.get().is_ood is True


def test_run_counts_come_from_its_items_and_close_the_run():
    version = make_version(threshold=2.0)
    photos = [make_photo(DAY, seed=i) for i in range(3)]
    run = runs.start_run(DAY, version)

    record_predictions(version, {photos[0].id: np.array([5.0, 0.0, 0.0]), photos[1].id: np.array([1.0, 0.0, 0.0])}, run.id)
    record_failures({photos[2].id: "The image is truncated or corrupt and cannot be decoded."}, run.id)
    run = runs.refresh_run(run.id)

    assert (run.classified_count, run.ood_count, run.failed_count) == (2, 1, 1)
    assert run.status == InferenceRun.Status.COMPLETED
    assert Photo.objects.get(id=photos[2].id).status == Photo.Status.FAILED
    assert not run.items.filter(status=InferenceRunItem.Status.QUEUED).exists()


def test_run_stays_open_while_photos_are_queued():
    version = make_version()
    photos = [make_photo(DAY, seed=i) for i in range(2)]
    run = runs.start_run(DAY, version)

    record_predictions(version, {photos[0].id: np.array([5.0, 0.0, 0.0])}, run.id)
    run = runs.refresh_run(run.id)

    assert run.status != InferenceRun.Status.COMPLETED
    assert run.classified_count == 1


def test_only_one_version_is_active():
    first = make_version(name="v-a")
    second = make_version(name="v-b")

    first.refresh_from_db()
    assert first.is_active is False
    assert second.is_active is True
    with pytest.raises(Exception), transaction.atomic():
        type(first).objects.filter(id=first.id).update(is_active=True)


def test_out_of_range_days_are_rejected_not_crashed(client, django_user_model):
    admin = django_user_model.objects.create_superuser("lead", password="x")
    client.force_login(admin)

    for url in ("/queue/?date=9999-12-31", "/dashboard/?date=2024-02-30", "/api/v1/photos/?day=0001-01-01", "/api/v1/queue/?date=9999-12-31"):
        response = client.get(url)
        assert response.status_code in (200, 400), f"{url} answered {response.status_code}"


def test_new_prediction_makes_earlier_reads_stale():
    first = make_version(name="v-one", threshold=1.0)
    photo = make_photo(DAY, seed=1)
    record_predictions(first, {photo.id: np.array([0.2, 3.0, 2.5])})
    photo.refresh_from_db()
    read_revision = photo.revision

    second = make_version(name="v-two", threshold=1.0)
    record_predictions(second, {photo.id: np.array([3.0, 0.2, 0.1])})
    record_predictions(second, {photo.id: np.array([3.0, 0.2, 0.1])})

    photo.refresh_from_db()
    assert photo.revision == read_revision + 1
