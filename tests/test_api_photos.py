"""Photo upload, listing and detail through the API, with the upload limits and the throttle."""
import io
import random
from datetime import date

import pytest
from django.core.cache import cache
from PIL import Image
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from inspection.models import Car, Photo, Review
from inspection.roles import INSPECTOR, OPERATIONS_MANAGER
from inspection.services.reviews import submit_review
from tests.inspection_data import jpeg_bytes, label, make_photo, make_version, predict, user_in_role

pytestmark = pytest.mark.django_db

DAY = date(2026, 12, 3)


def noise_jpeg():
    """Return a JPEG of random pixels: large enough that a cut keeps the header but loses pixels."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (256, 256), random.Random(0).randbytes(256 * 256 * 3)).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def clear_throttle_counts():
    # Throttle counts live in the cache, which outlives a test's database transaction.
    cache.clear()


@pytest.fixture
def inspector():
    return user_in_role("mina", INSPECTOR)


@pytest.fixture
def api(inspector):
    client = APIClient()
    # English messages, which the assertions below quote.
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=inspector).key}", HTTP_ACCEPT_LANGUAGE="en")
    return client


def upload(api, data, **fields):
    return api.post("/api/v1/photos/", {"image": SimpleUploadedFile("front.jpg", data), **fields}, format="multipart")


def test_upload_stores_photo_with_trip_details(api):
    response = upload(api, jpeg_bytes(), car="34나5678", reservation="R-77", event="after_trip", taken_at="2026-12-03T09:30:00+09:00")

    assert response.status_code == 201
    photo = Photo.objects.get(pk=response.json()["id"])
    assert photo.car.plate == "34나5678"
    assert photo.reservation_id == "R-77"
    assert photo.event == "after_trip"
    assert response.json()["status"] == "pending"
    assert response.json()["prediction"] is None


def test_upload_of_same_bytes_returns_existing_photo(api):
    data = jpeg_bytes()
    first = upload(api, data)

    second = upload(api, data)

    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert Photo.objects.count() == 1


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (b"%PDF-1.7 not an image at all", "not an image"),
        (noise_jpeg()[:20_000], "truncated"),
    ],
    ids=["empty", "not an image", "truncated"],
)
def test_upload_of_invalid_image_is_rejected_and_nothing_stored(api, data, message):
    response = api.post(
        "/api/v1/photos/", {"image": SimpleUploadedFile("bad.jpg", data), "car": "56다7890"}, format="multipart"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert message in response.json()["fields"]["image"][0]
    assert not Photo.objects.exists()
    assert not Car.objects.exists()


def test_upload_over_pixel_limit_names_the_limit(api, settings):
    settings.SOFAR_MAX_IMAGE_PIXELS = 1000

    response = upload(api, jpeg_bytes(size=(64, 48)))

    assert response.status_code == 400
    assert "3072 pixels" in response.json()["fields"]["image"][0]
    assert "1000 pixels" in response.json()["fields"]["image"][0]
    assert not Photo.objects.exists()


def test_upload_over_size_limit_is_413_and_nothing_stored(api, settings):
    settings.SOFAR_MAX_UPLOAD_BYTES = 500
    data = jpeg_bytes(size=(200, 200))

    response = upload(api, data, car="56다7890")

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert "500 bytes" in response.json()["fields"]["image"][0]
    assert "SOFAR_MAX_UPLOAD_BYTES" in response.json()["detail"]
    assert not Photo.objects.exists()
    assert not Car.objects.exists()


def test_upload_body_over_limit_is_413_before_parsing(api, settings):
    settings.SOFAR_MAX_UPLOAD_BYTES = 1000
    data = noise_jpeg()
    assert len(data) > 1000 + 64 * 1024

    response = upload(api, data)

    assert response.status_code == 413
    assert "1000 bytes" in response.json()["fields"]["image"][0]
    assert not Photo.objects.exists()


def test_upload_with_classify_needs_an_active_version(api):
    response = upload(api, jpeg_bytes(), classify="true")

    assert response.status_code == 409
    assert not Photo.objects.exists()


def test_upload_with_classify_queues_after_commit(api, django_capture_on_commit_callbacks):
    make_version()

    with django_capture_on_commit_callbacks() as callbacks:
        response = upload(api, jpeg_bytes(), classify="true")

    assert response.status_code == 201
    assert len(callbacks) == 1


def test_upload_of_classified_photo_queues_nothing(api, django_capture_on_commit_callbacks):
    data = jpeg_bytes()
    photo = Photo.objects.get(pk=upload(api, data).json()["id"])
    predict(photo, make_version())

    with django_capture_on_commit_callbacks() as callbacks:
        response = upload(api, data, classify="true")

    assert response.status_code == 200
    assert response.json()["prediction"]["top1_label"] == "DIRT"
    assert callbacks == []


def test_uploads_are_throttled_per_user(api, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"uploads": "2/minute"}}
    other = APIClient()
    other.force_authenticate(user_in_role("joon", INSPECTOR))

    statuses = [upload(api, jpeg_bytes()).status_code for _ in range(3)]

    assert statuses == [201, 201, 429]
    assert upload(api, jpeg_bytes()).has_header("Retry-After")
    assert upload(other, jpeg_bytes()).status_code == 201


def test_list_filters_by_day_car_label_and_ood(api):
    version = make_version()
    dirty = make_photo(day=DAY, plate="11가1111")
    predict(dirty, version, top1="NORMAL", p1=0.6, top2="DIRT", p2=0.3)
    odd = make_photo(day=DAY, plate="22가2222")
    predict(odd, version, top1="NORMAL", p1=0.9, top2="SEAT", p2=0.05, is_ood=True)
    make_photo(day=date(2026, 12, 2), plate="11가1111")

    def ids(**params):
        return [photo["id"] for photo in api.get("/api/v1/photos/", params).json()["results"]]

    assert sorted(ids(day="2026-12-03")) == sorted([dirty.pk, odd.pk])
    assert ids(day="2026-12-03", car="11가1111") == [dirty.pk]
    assert ids(label="DIRT") == [dirty.pk]
    assert ids(ood="true") == [odd.pk]
    assert ids(status="classified", ood="false") == []


def test_list_filters_by_current_training_label(api, inspector):
    version = make_version()
    photo = make_photo()
    predict(photo, version)
    submit_review(photo, inspector, Review.Action.CORRECT, labels=[label("DEFECT")])

    response = api.get("/api/v1/photos/", {"training_label": "DEFECT"})

    assert [row["id"] for row in response.json()["results"]] == [photo.pk]


def test_list_rejects_invalid_filter_values(api):
    response = api.get("/api/v1/photos/", {"day": "yesterday", "status": "lost"})

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"day", "status"}


def test_list_is_cursor_paginated_without_repeats(api):
    photos = [make_photo(plate=f"{n}가0000") for n in range(5)]

    first = api.get("/api/v1/photos/", {"page_size": 2}).json()
    second = api.get(first["next"]).json()

    assert [row["id"] for row in first["results"]] == [photos[4].pk, photos[3].pk]
    assert [row["id"] for row in second["results"]] == [photos[2].pk, photos[1].pk]
    assert "cursor=" in first["next"]


def test_list_query_count_does_not_grow_with_photos(api, django_assert_max_num_queries):
    version = make_version()
    for n in range(12):
        predict(make_photo(plate=f"{n}가1234"), version)

    with django_assert_max_num_queries(8):
        response = api.get("/api/v1/photos/")

    assert len(response.json()["results"]) == 12


def test_detail_shows_prediction_reviews_and_training_label(api, inspector):
    photo = make_photo()
    predict(photo, make_version(), top1="DIRT", p1=0.8, top2="NORMAL", p2=0.15)
    submit_review(photo, inspector, Review.Action.CONFIRM)

    body = api.get(f"/api/v1/photos/{photo.pk}/").json()

    assert body["prediction"]["top1_label"] == "DIRT"
    assert body["prediction"]["top1_probability"] == 0.8
    assert [review["action"] for review in body["reviews"]] == ["confirm"]
    assert body["training_label"]["labels"] == ["DIRT"]
    assert body["training_label"]["source"] == "inspector"
    assert body["revision"] == 1


def test_detail_of_missing_photo_is_404_in_error_shape(api):
    response = api.get("/api/v1/photos/999999/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert response.json()["fields"] == {}


def test_session_login_works_and_checks_csrf():
    user_in_role("soo", OPERATIONS_MANAGER)
    browser = APIClient(enforce_csrf_checks=True)
    browser.login(username="soo", password="secret-pass-1")

    assert browser.get("/api/v1/photos/").status_code == 200
    refused = browser.post("/api/v1/orders/", {"car": "x", "kind": "wash"}, format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]


def test_anonymous_request_is_401_with_challenge():
    response = APIClient().get("/api/v1/photos/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["code"] == "not_authenticated"


def test_invalid_token_is_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    assert client.get("/api/v1/photos/").status_code == 401


def test_unknown_api_path_is_404_in_error_shape(api):
    response = api.get("/api/v1/photos/not-a-number/")

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Not found.", "fields": {}}


def test_errors_are_in_korean_by_default(inspector):
    client = APIClient()
    client.force_authenticate(inspector)

    response = upload(client, jpeg_bytes(), classify="true")

    assert response.status_code == 409
    assert response.json()["detail"].startswith("활성화된 모델 버전이 없어")
