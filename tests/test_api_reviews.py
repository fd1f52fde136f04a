"""Reviews through the API: confirm, correct, irrelevant, and 409 on a stale revision."""
import pytest
from rest_framework.test import APIClient

from inspection.models import Review, TrainingLabel
from inspection.roles import INSPECTOR
from inspection.services.labels import current_training_label
from inspection.services.relabel import relabel_photos
from tests.inspection_data import label, make_photo, make_version, predict, user_in_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def inspector():
    return user_in_role("mina", INSPECTOR)


@pytest.fixture
def api(inspector):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(inspector)
    return client


@pytest.fixture
def photo():
    photo = make_photo()
    predict(photo, make_version(), top1="DIRT", p1=0.7, top2="NORMAL", p2=0.2)
    return photo


def review(api, photo, action, labels=None, revision=None):
    body = {"photo": photo.pk, "action": action, "revision": photo.revision if revision is None else revision}
    if labels is not None:
        body["labels"] = labels
    return api.post("/api/v1/reviews/", body, format="json")


def codes(training_label):
    return sorted(training_label.labels.values_list("code", flat=True))


def test_confirm_records_predicted_label(api, photo, inspector):
    response = review(api, photo, "confirm")

    assert response.status_code == 201
    assert response.json()["labels"] == ["DIRT"]
    assert response.json()["training_label"]["labels"] == ["DIRT"]
    assert response.json()["photo_revision"] == 1
    assert codes(current_training_label(photo)) == ["DIRT"]
    assert current_training_label(photo).author == inspector


def test_correct_records_several_labels(api, photo):
    response = review(api, photo, "correct", labels=["DEFECT", "DIRT"])

    assert response.status_code == 201
    assert codes(current_training_label(photo)) == ["DEFECT", "DIRT"]


def test_irrelevant_records_no_label(api, photo):
    response = review(api, photo, "irrelevant")

    assert response.status_code == 201
    assert current_training_label(photo).is_irrelevant


def test_stale_revision_is_409_and_nothing_stored(api, photo, inspector):
    relabel_photos([photo], [label("NORMAL")], user_in_role("admin"))

    response = review(api, photo, "confirm", revision=0)

    assert response.status_code == 409
    assert response.json()["code"] == "stale_revision"
    assert "reload" in response.json()["detail"]
    assert not Review.objects.exists()
    assert codes(current_training_label(photo)) == ["NORMAL"]


def test_second_review_with_old_revision_is_409(api, photo):
    assert review(api, photo, "confirm", revision=0).status_code == 201

    assert review(api, photo, "correct", labels=["NORMAL"], revision=0).status_code == 409
    assert review(api, photo, "correct", labels=["NORMAL"], revision=1).status_code == 201


@pytest.mark.parametrize(
    "action, labels, field",
    [
        ("correct", [], "labels"),
        ("correct", ["NO_SUCH_LABEL"], "labels"),
        ("confirm", ["DIRT"], "labels"),
        ("approve", None, "action"),
    ],
    ids=["correct without labels", "unknown label", "confirm with labels", "unknown action"],
)
def test_invalid_review_names_the_field(api, photo, action, labels, field):
    response = review(api, photo, action, labels=labels)

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not TrainingLabel.objects.exists()


def test_missing_revision_and_photo_are_named(api):
    response = api.post("/api/v1/reviews/", {"action": "confirm"}, format="json")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"photo", "revision"}


def test_confirm_without_prediction_is_400(api):
    response = review(api, make_photo(), "confirm")

    assert response.status_code == 400
    assert "no prediction" in response.json()["fields"]["action"][0]


def test_inactive_label_cannot_correct(api, photo):
    seat = label("SEAT")
    seat.is_active = False
    seat.save()

    response = review(api, photo, "correct", labels=["SEAT"])

    assert response.status_code == 400
    assert "SEAT" in response.json()["fields"]["labels"][0]
