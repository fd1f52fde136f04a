"""Real photos through the API: upload with immediate classification by a real Celery worker,
read the predictions back, correct one and see the new training label."""
import time

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from inference.ml.training import TrainingConfig, train_model_version
from inspection.models import TrainingLabel
from inspection.roles import INSPECTOR
from inspection.services.datasets import import_dataset
from tests.conftest import shared_data_path
from tests.inspection_data import user_in_role

CLASSIFY_TIMEOUT_SECONDS = 240


def wait_until_classified(api, photo_ids):
    deadline = time.monotonic() + CLASSIFY_TIMEOUT_SECONDS
    pending = set(photo_ids)
    while pending and time.monotonic() < deadline:
        for photo_id in sorted(pending):
            if api.get(f"/api/v1/photos/{photo_id}/").json()["status"] != "pending":
                pending.discard(photo_id)
        time.sleep(0.5)
    return pending


@pytest.mark.worker
@pytest.mark.shared_data
@pytest.mark.django_db(transaction=True)
def test_uploaded_photos_are_classified_and_corrected(celery_worker):
    dirt_folder = shared_data_path("sofar", "CAR_DIRT_RECOGNITION")
    import_dataset(shared_data_path("sofar", "SOFAR_DATASET"))
    version = train_model_version(TrainingConfig(augmented_views=0), activate=True)
    inspector = user_in_role("mina", INSPECTOR)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=inspector).key}")

    uploaded = {}
    for number, path in enumerate(sorted(dirt_folder.glob("*/*.jpg"))):
        with open(path, "rb") as image:
            response = api.post(
                "/api/v1/photos/",
                {"image": image, "car": f"{number + 10}가{1000 + number}", "event": "after_trip", "classify": "true"},
                format="multipart",
            )
        assert response.status_code == 201, response.json()
        uploaded[response.json()["id"]] = path.parent.name
    assert len(uploaded) == 10
    assert wait_until_classified(api, uploaded) == set(), celery_worker.log_path.read_text()[-3000:]

    predictions = {}
    for photo_id in uploaded:
        rows = api.get("/api/v1/predictions/", {"photo": photo_id}).json()["results"]
        assert len(rows) == 1
        assert rows[0]["model_version"] == version.name
        assert rows[0]["top1_label"] != rows[0]["top2_label"]
        predictions[photo_id] = rows[0]
    dirt_photos = [photo_id for photo_id, folder in uploaded.items() if folder == "1_DIRT"]
    assert any("DIRT" in (predictions[photo_id]["top1_label"], predictions[photo_id]["top2_label"]) for photo_id in dirt_photos)
    dirt_in_top2 = api.get("/api/v1/predictions/", {"label": "DIRT", "model_version": version.name}).json()["results"]
    assert {row["photo"] for row in dirt_in_top2} == {
        photo_id for photo_id, row in predictions.items() if "DIRT" in (row["top1_label"], row["top2_label"])
    }

    photo_id = dirt_photos[0]
    photo = api.get(f"/api/v1/photos/{photo_id}/").json()
    correction = ["DEFECT", "DIRT"]
    review = api.post(
        "/api/v1/reviews/",
        {"photo": photo_id, "action": "correct", "labels": correction, "revision": photo["revision"]},
        format="json",
    )

    assert review.status_code == 201, review.json()
    detail = api.get(f"/api/v1/photos/{photo_id}/").json()
    assert detail["training_label"]["labels"] == correction
    assert detail["training_label"]["source"] == "inspector"
    assert detail["training_label"]["author"] == "mina"
    assert detail["revision"] == photo["revision"] + 1
    current = TrainingLabel.objects.current().get(photo_id=photo_id)
    assert sorted(current.labels.values_list("code", flat=True)) == correction
