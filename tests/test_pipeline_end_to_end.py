"""The whole pipeline on real photos: import, train, upload a day, classify with a real worker, queue."""
import csv
import os
import shutil
from datetime import date

import pytest
from django.core.management import call_command
from django.urls import reverse

from inference.models import InferenceRun, ModelVersion, Prediction
from inference.services import runs
from inference.services.days import photos_uploaded_on
from inference.tasks import classify_batch
from inspection.models import Photo
from inspection.services.queue import ood_page, queue_page
from tests.conftest import shared_data_path
from tests.factories import document_bytes, jpeg_bytes, make_photo

DAY = date(2026, 12, 3)
DAY_FOLDERS = [
    ("CAR_DEFECT_RECOGNITION", "0_NORMAL"),
    ("CAR_DEFECT_RECOGNITION", "1_DEFECT"),
    ("CAR_DIRT_RECOGNITION", "0_NORMAL"),
    ("CAR_DIRT_RECOGNITION", "1_DIRT"),
]


def lay_out_day(folder):
    """Copy the CAR_* photos into one upload folder, one car per photo, plus a paper document."""
    folder.mkdir()
    rows = []
    for dataset, label in DAY_FOLDERS:
        for source in sorted(shared_data_path("sofar", dataset, label).iterdir()):
            name = f"{dataset}-{label}-{source.name}"
            shutil.copy(source, folder / name)
            rows.append({"file": name, "plate": f"{len(rows) + 10}가{1000 + len(rows)}", "reservation": f"R{len(rows)}", "event": "after_trip"})
    (folder / "document.jpg").write_bytes(document_bytes())
    rows.append({"file": "document.jpg", "plate": "99가9999", "reservation": "R99", "event": "after_trip"})
    manifest = folder.parent / "manifest.csv"
    with open(manifest, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["file", "plate", "reservation", "event"])
        writer.writeheader()
        writer.writerows(rows)
    return manifest


@pytest.mark.worker
@pytest.mark.shared_data
def test_day_of_real_photos_reaches_the_queue(celery_worker, client, django_user_model, tmp_path):
    call_command("import_dataset", shared_data_path("sofar", "SOFAR_DATASET"))
    call_command("train", "--activate", "--views", "2")
    version = ModelVersion.objects.get(is_active=True)
    manifest = lay_out_day(tmp_path / "day")
    call_command("import_photos", tmp_path / "day", "--uploaded-on", DAY.isoformat(), "--manifest", manifest)

    call_command("run_daily", "--date", DAY.isoformat(), "--wait", "--timeout", "600")

    run = InferenceRun.objects.get()
    day_photos = photos_uploaded_on(Photo.objects.all(), DAY)
    assert day_photos.count() == 21
    assert run.status == InferenceRun.Status.COMPLETED
    assert run.classified_count == 21
    for photo in day_photos:
        (prediction,) = Prediction.objects.filter(photo=photo)
        assert prediction.model_version == version
        assert prediction.top1_label != prediction.top2_label
        assert prediction.top1_probability >= prediction.top2_probability

    document = Prediction.objects.get(photo__original_name="document.jpg")
    assert document.is_ood, f"document max logit {document.max_logit:.2f} >= threshold {version.ood_threshold:.2f}"
    assert document.photo in [item.photo for item in ood_page(DAY)[0]]

    groups, _ = queue_page(DAY, size=100)
    assert any("DEFECT" in group.label_codes for group in groups)
    assert any("DIRT" in group.label_codes for group in groups)
    assert all(not item.prediction.is_ood for group in groups for item in group.items)

    client.force_login(django_user_model.objects.create_superuser("lead", password="x"))
    page = client.get(reverse("inspection:queue"), {"date": DAY.isoformat()})
    assert page.status_code == 200
    assert groups[0].car.plate in page.content.decode()


def generated_dataset(folder):
    """Two labels of small generated photos: enough to train a head in seconds."""
    for label, color in (("normal", (90, 90, 90)), ("dirt", (120, 80, 30))):
        (folder / label).mkdir(parents=True)
        for seed in range(3):
            (folder / label / f"{seed}.jpg").write_bytes(jpeg_bytes(color=color, seed=seed))
    return folder


@pytest.mark.django_db
def test_batch_delivered_twice_writes_each_prediction_once(tmp_path):
    call_command("import_dataset", generated_dataset(tmp_path / "dataset"))
    call_command("train", "--activate", "--views", "0")
    photos = [make_photo(DAY, seed=100 + i) for i in range(3)]
    run = runs.start_run(DAY)
    batch = [photo.id for photo in photos]

    classify_batch.apply(args=(run.id, batch))
    classify_batch.apply(args=(run.id, batch))

    run.refresh_from_db()
    assert Prediction.objects.count() == 3
    assert run.classified_count == 3
    assert run.status == InferenceRun.Status.COMPLETED


@pytest.mark.django_db
def test_undecodable_photo_fails_alone_and_batch_goes_on(tmp_path):
    call_command("import_dataset", generated_dataset(tmp_path / "dataset"))
    call_command("train", "--activate", "--views", "0")
    good, broken = make_photo(DAY, seed=1), make_photo(DAY, seed=2)
    # The stored file went bad after upload: only its first bytes are left.
    broken.file.storage.delete(broken.file.name)
    with broken.file.storage.open(broken.file.name, "wb") as handle:
        handle.write(jpeg_bytes(seed=2)[:300])
    run = runs.start_run(DAY)

    classify_batch.apply(args=(run.id, [good.id, broken.id]))

    run.refresh_from_db()
    broken.refresh_from_db()
    assert (run.classified_count, run.failed_count) == (1, 1)
    assert broken.status == Photo.Status.FAILED
    assert broken.failure_reason
    assert Prediction.objects.filter(photo=good).count() == 1


@pytest.mark.django_db
def test_unreadable_file_stays_queued_for_retry(tmp_path):
    """A read error that is not a bad image (here: a folder where the file should be) is retried later."""
    call_command("import_dataset", generated_dataset(tmp_path / "dataset"))
    call_command("train", "--activate", "--views", "0")
    good, unreadable = make_photo(DAY, seed=1), make_photo(DAY, seed=2)
    path = unreadable.file.path
    unreadable.file.storage.delete(unreadable.file.name)
    os.mkdir(path)
    run = runs.start_run(DAY)

    classify_batch.apply(args=(run.id, [good.id, unreadable.id]))

    run.refresh_from_db()
    unreadable.refresh_from_db()
    assert (run.classified_count, run.failed_count) == (1, 0)
    assert unreadable.status == Photo.Status.PENDING
    assert run.items.get(photo=unreadable).status == "queued"
    assert run.status != InferenceRun.Status.COMPLETED
