"""Labels, model versions and inference runs through the API."""
import pytest
from rest_framework.test import APIClient

from inference.models import InferenceRun, ModelVersion
from inspection.models import Label
from inspection.roles import LABELING_ADMIN
from tests.inspection_data import make_photo, make_version, user_in_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api():
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user_in_role("hana", LABELING_ADMIN))
    return client


def test_labels_list_in_scheme_order(admin_api):
    body = admin_api.get("/api/v1/labels/").json()

    codes = [row["code"] for row in body["results"]]
    assert codes == list(Label.objects.order_by("position", "code").values_list("code", flat=True))
    assert "DIRT" in codes


def test_label_create_validates_code(admin_api):
    response = admin_api.post("/api/v1/labels/", {"code": "bad code", "name_en": "x", "name_ko": "엑스"}, format="json")

    assert response.status_code == 400
    assert "code" in response.json()["fields"]


def test_label_create_and_duplicate(admin_api):
    body = {"code": "SCRATCH", "name_en": "Scratch", "name_ko": "긁힘", "action": "repair", "aliases": ["scratches"]}

    assert admin_api.post("/api/v1/labels/", body, format="json").status_code == 201
    again = admin_api.post("/api/v1/labels/", body, format="json")

    assert again.status_code == 400
    assert "code" in again.json()["fields"]
    assert Label.objects.get(code="SCRATCH").aliases == ["scratches"]


def test_label_change_keeps_code(admin_api):
    response = admin_api.patch("/api/v1/labels/DIRT/", {"code": "MUD", "name_ko": "오염", "is_active": False}, format="json")

    assert response.status_code == 200
    dirt = Label.objects.get(code="DIRT")
    assert dirt.name_ko == "오염"
    assert not dirt.is_active
    assert not Label.objects.filter(code="MUD").exists()


def test_label_put_and_delete_are_not_allowed(admin_api):
    assert admin_api.put("/api/v1/labels/DIRT/", {}, format="json").status_code == 405
    assert admin_api.delete("/api/v1/labels/DIRT/").status_code == 405


def test_model_version_detail_has_metrics(admin_api):
    version = make_version(metrics={"accuracy": 0.91}, evaluation={"per_label": {}})

    body = admin_api.get(f"/api/v1/model-versions/{version.pk}/").json()

    assert body["metrics"] == {"accuracy": 0.91}
    assert body["evaluation"] == {"per_label": {}}
    assert body["is_active"] is True


def test_activate_switches_the_active_version(admin_api):
    old = make_version("v1")
    new = make_version("v2", active=False)

    response = admin_api.post(f"/api/v1/model-versions/{new.pk}/activate/")

    assert response.status_code == 200
    assert response.json()["is_active"] is True
    assert ModelVersion.objects.active() == new
    old.refresh_from_db()
    assert not old.is_active


def test_run_trigger_queues_the_day(admin_api, django_capture_on_commit_callbacks):
    make_version()
    photo = make_photo()

    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_api.post("/api/v1/runs/", {"date": photo.uploaded_at.astimezone().date().isoformat()}, format="json")

    assert response.status_code == 201
    assert response.json()["photo_count"] == 1
    assert len(callbacks) == 1
    assert InferenceRun.objects.get().pk == response.json()["id"]


def test_run_trigger_without_active_version_is_409(admin_api):
    response = admin_api.post("/api/v1/runs/", {"date": "2026-12-03"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "no_active_model"
    assert not InferenceRun.objects.exists()


def test_run_trigger_validates_date(admin_api):
    response = admin_api.post("/api/v1/runs/", {"date": "03.12.2026"}, format="json")

    assert response.status_code == 400
    assert "date" in response.json()["fields"]


def test_runs_filter_by_date(admin_api):
    version = make_version()
    InferenceRun.objects.create(target_date="2026-12-02", model_version=version)
    wanted = InferenceRun.objects.create(target_date="2026-12-03", model_version=version)

    body = admin_api.get("/api/v1/runs/", {"date": "2026-12-03"}).json()

    assert [row["id"] for row in body["results"]] == [wanted.pk]
