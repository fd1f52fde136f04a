"""Work orders through the API: dispatch, status transitions, filters and the CSV export."""
import csv
import io

import pytest
from rest_framework.test import APIClient

from inspection.models import Car, WorkOrder
from inspection.roles import INSPECTOR, OPERATIONS_MANAGER
from tests.inspection_data import make_photo, user_in_role

pytestmark = pytest.mark.django_db


def client_of(user):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


@pytest.fixture
def inspector():
    return client_of(user_in_role("mina", INSPECTOR))


@pytest.fixture
def manager():
    return client_of(user_in_role("soo", OPERATIONS_MANAGER))


@pytest.fixture
def photo():
    return make_photo(plate="12가3456")


def dispatch(client, **body):
    return client.post("/api/v1/orders/", {"car": "12가3456", "kind": "wash", **body}, format="json")


def move(client, order_id, status):
    return client.post(f"/api/v1/orders/{order_id}/status/", {"status": status}, format="json")


def test_dispatch_creates_order_with_photos_and_labels(inspector, photo):
    response = dispatch(inspector, photos=[photo.pk], labels=["DIRT"])

    assert response.status_code == 201
    assert response.json()["status"] == "open"
    assert response.json()["photos"] == [photo.pk]
    assert response.json()["labels"] == ["DIRT"]
    assert response.json()["created_by"] == "mina"


def test_second_dispatch_joins_the_open_order(inspector, photo):
    first = dispatch(inspector)
    second_photo = make_photo(plate="12가3456")

    second = dispatch(inspector, photos=[second_photo.pk])

    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["photos"] == [second_photo.pk]
    assert WorkOrder.objects.count() == 1


def test_dispatch_rejects_photos_of_another_car(inspector, photo):
    other = make_photo(plate="99하9999")

    response = dispatch(inspector, photos=[other.pk])

    assert response.status_code == 400
    assert "99하9999" not in response.json()["fields"]["photos"][0]
    assert str(other.pk) in response.json()["fields"]["photos"][0]
    assert not WorkOrder.objects.exists()


def test_dispatch_for_unknown_car_names_the_field(inspector):
    response = dispatch(inspector, car="00가0000")

    assert response.status_code == 400
    assert "car" in response.json()["fields"]


def test_status_moves_open_dispatched_done(inspector, manager, photo):
    order_id = dispatch(inspector).json()["id"]

    assert move(manager, order_id, "dispatched").json()["status"] == "dispatched"
    done = move(manager, order_id, "done")

    assert done.status_code == 200
    assert done.json()["status"] == "done"
    assert done.json()["status_changed_by"] == "soo"


@pytest.mark.parametrize(
    "path, target",
    [([], "done"), (["dispatched", "done"], "cancelled"), (["cancelled"], "open"), (["dispatched"], "open")],
    ids=["open to done", "done to cancelled", "cancelled to open", "dispatched to open"],
)
def test_invalid_transition_is_409(inspector, manager, photo, path, target):
    order_id = dispatch(inspector).json()["id"]
    for status in path:
        assert move(manager, order_id, status).status_code == 200

    response = move(manager, order_id, target)

    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    assert WorkOrder.objects.get(pk=order_id).status == (path[-1] if path else "open")


def test_unknown_status_names_the_field(inspector, manager, photo):
    order_id = dispatch(inspector).json()["id"]

    response = move(manager, order_id, "lost")

    assert response.status_code == 400
    assert "status" in response.json()["fields"]


def test_list_filters_by_status_and_kind(inspector, manager, photo):
    wash = dispatch(inspector).json()["id"]
    repair = dispatch(inspector, kind="repair").json()["id"]
    move(manager, repair, "dispatched")

    def ids(**params):
        return [row["id"] for row in manager.get("/api/v1/orders/", params).json()["results"]]

    assert ids(status="open") == [wash]
    assert ids(kind="repair") == [repair]
    assert sorted(ids(car="12가3456")) == sorted([wash, repair])


def test_export_neutralises_formula_cells(inspector, manager, photo):
    Car.objects.filter(plate="12가3456").update(zone="=HYPERLINK(\"http://evil\")")
    dispatch(inspector, photos=[photo.pk], labels=["DIRT"])

    response = manager.get("/api/v1/orders/export/", HTTP_ACCEPT="text/csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 2
    assert "'=HYPERLINK(\"http://evil\")" in rows[1]
    assert "12가3456" in rows[1]


def test_export_applies_filters(inspector, manager, photo):
    dispatch(inspector)
    dispatch(inspector, kind="repair")

    response = manager.get("/api/v1/orders/export/", {"kind": "repair"})

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 2


def test_export_error_is_json(inspector):
    response = inspector.get("/api/v1/orders/export/", HTTP_ACCEPT="text/csv")

    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
