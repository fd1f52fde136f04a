"""Every API endpoint against every role: the status code of each cell of the matrix.

The roles hold the permissions of `inspection.roles`, the same as on the screens. An
anonymous request is 401 (with a WWW-Authenticate header), a forbidden one 403, an
allowed one succeeds.
"""
import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.views import APIView

from api.permissions import RolePermission
from inference.models import InferenceRun
from inspection.models import Car, WorkOrder
from inspection.roles import INSPECTOR, LABELING_ADMIN, OPERATIONS_MANAGER
from tests.inspection_data import jpeg_bytes, make_photo, make_version, predict, user_in_role

pytestmark = pytest.mark.django_db

ROLES = {"inspector": INSPECTOR, "ops manager": OPERATIONS_MANAGER, "labeling admin": LABELING_ADMIN}


def upload_body(world):
    return {"image": SimpleUploadedFile("upload.jpg", jpeg_bytes()), "car": "12가3456", "event": "after_trip"}


def review_body(world):
    return {"photo": world["photo"].pk, "action": "confirm", "revision": world["photo"].revision}


# expected status per caller: anonymous, inspector, ops manager, labeling admin
ENDPOINTS = {
    "photos list": ("get", "/api/v1/photos/", None, (401, 200, 200, 200)),
    "photo detail": ("get", "/api/v1/photos/{photo}/", None, (401, 200, 200, 200)),
    "photo upload": ("post", "/api/v1/photos/", upload_body, (401, 201, 403, 201)),
    "predictions list": ("get", "/api/v1/predictions/", None, (401, 200, 200, 200)),
    "prediction detail": ("get", "/api/v1/predictions/{prediction}/", None, (401, 200, 200, 200)),
    "queue": ("get", "/api/v1/queue/", None, (401, 200, 403, 200)),
    "review create": ("post", "/api/v1/reviews/", review_body, (401, 201, 403, 403)),
    "orders list": ("get", "/api/v1/orders/", None, (401, 403, 200, 403)),
    "order detail": ("get", "/api/v1/orders/{order}/", None, (401, 403, 200, 403)),
    "order dispatch": ("post", "/api/v1/orders/", lambda world: {"car": "12가3456", "kind": "repair"}, (401, 201, 403, 403)),
    "order status": ("post", "/api/v1/orders/{order}/status/", lambda world: {"status": "dispatched"}, (401, 403, 200, 403)),
    "orders export": ("get", "/api/v1/orders/export/", None, (401, 403, 200, 403)),
    "labels list": ("get", "/api/v1/labels/", None, (401, 200, 200, 200)),
    "label detail": ("get", "/api/v1/labels/DIRT/", None, (401, 200, 200, 200)),
    "label create": ("post", "/api/v1/labels/", lambda world: {"code": "SCRATCH", "name_en": "Scratch", "name_ko": "긁힘", "action": "repair"}, (401, 403, 403, 201)),
    "label change": ("patch", "/api/v1/labels/DIRT/", lambda world: {"name_ko": "오염"}, (401, 403, 403, 200)),
    "model versions list": ("get", "/api/v1/model-versions/", None, (401, 200, 200, 200)),
    "model version detail": ("get", "/api/v1/model-versions/{version}/", None, (401, 200, 200, 200)),
    "model version activate": ("post", "/api/v1/model-versions/{version}/activate/", None, (401, 403, 403, 200)),
    "runs list": ("get", "/api/v1/runs/", None, (401, 200, 200, 200)),
    "run detail": ("get", "/api/v1/runs/{run}/", None, (401, 200, 200, 200)),
    "run trigger": ("post", "/api/v1/runs/", lambda world: {"date": "2026-12-03"}, (401, 403, 403, 201)),
}
CALLERS = ("anonymous", "inspector", "ops manager", "labeling admin")
CELLS = [
    pytest.param(endpoint, caller, expected[index], id=f"{endpoint}-{caller}")
    for endpoint, (_, _, _, expected) in ENDPOINTS.items()
    for index, caller in enumerate(CALLERS)
]


@pytest.fixture
def world():
    photo = make_photo(plate="12가3456")
    version = make_version()
    prediction = predict(photo, version)
    order = WorkOrder.objects.create(car=Car.objects.get(plate="12가3456"), kind="wash", created_by=user_in_role("dispatcher"))
    run = InferenceRun.objects.create(target_date="2026-12-02", model_version=version)
    return {"photo": photo, "prediction": prediction, "version": version, "order": order, "run": run}


def client_for(caller):
    client = APIClient()
    if caller != "anonymous":
        user = user_in_role(caller.replace(" ", "-"), ROLES[caller])
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.mark.parametrize("endpoint, caller, expected", CELLS)
def test_permission_matrix(world, endpoint, caller, expected):
    method, url, body, _ = ENDPOINTS[endpoint]
    url = url.format(**{name: value.pk for name, value in world.items()})
    client = client_for(caller)
    data = body(world) if body else None
    request_format = "multipart" if endpoint == "photo upload" else "json"

    response = getattr(client, method)(url, data, format=request_format) if data is not None else getattr(client, method)(url)

    assert response.status_code == expected, response.content[:500]
    if expected == 401:
        assert response["WWW-Authenticate"] == 'Token'


def test_roles_match_the_groups_of_the_screens():
    for role in ROLES.values():
        assert Group.objects.filter(name=role).exists()


def test_view_without_action_is_denied(rf):
    request = rf.get("/")
    request.user = user_in_role("mina", INSPECTOR)

    assert not RolePermission().has_permission(request, APIView())


def test_unrouted_method_is_405_for_any_role():
    client = client_for("ops manager")

    assert client.delete("/api/v1/labels/DIRT/").status_code == 405
    assert client.put("/api/v1/photos/1/", {}, format="json").status_code == 405
