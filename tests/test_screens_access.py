"""Every screen checks its permission on the server: 403 without it, the log-in page when anonymous."""
import pytest
from django.urls import reverse

from inspection.models import Car, WorkOrder
from inspection.roles import INSPECTOR, LABELING_ADMIN, OPERATIONS_MANAGER
from tests.inspection_data import make_photo, make_version, predict, user_in_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects():
    version = make_version(metrics={"accuracy": 0.5})
    photo = make_photo(plate="12가3456")
    predict(photo, version)
    inspector = user_in_role("owner", INSPECTOR)
    order = WorkOrder.objects.create(car=Car.objects.get(plate="12가3456"), kind="wash", created_by=inspector)
    return {"photo": photo, "version": version, "order": order, "car": photo.car}


def screens(objects):
    """(method, url, roles allowed) of every screen and action."""
    photo, version, order, car = objects["photo"], objects["version"], objects["order"], objects["car"]
    return [
        ("get", reverse("inspection:queue"), {INSPECTOR, LABELING_ADMIN}),
        ("post", reverse("inspection:review", args=[photo.pk]), {INSPECTOR}),
        ("post", reverse("inspection:undo", args=[photo.pk]), {INSPECTOR}),
        ("post", reverse("inspection:dispatch", args=[car.pk]), {INSPECTOR}),
        ("post", reverse("inspection:withdraw", args=[order.pk]), {INSPECTOR}),
        ("get", reverse("inspection:photo_detail", args=[photo.pk]), {INSPECTOR, OPERATIONS_MANAGER, LABELING_ADMIN}),
        ("get", reverse("inspection:photo_thumbnail", args=[photo.pk]), {INSPECTOR, OPERATIONS_MANAGER, LABELING_ADMIN}),
        ("get", reverse("inspection:orders"), {OPERATIONS_MANAGER}),
        ("post", reverse("inspection:order_status", args=[order.pk]), {OPERATIONS_MANAGER}),
        ("get", reverse("inspection:orders_csv"), {OPERATIONS_MANAGER}),
        ("get", reverse("inspection:orders_xlsx"), {OPERATIONS_MANAGER}),
        ("get", reverse("inspection:relabel"), {LABELING_ADMIN}),
        ("post", reverse("inspection:relabel"), {LABELING_ADMIN}),
        ("get", reverse("inspection:labels"), {LABELING_ADMIN}),
        ("get", reverse("inspection:models"), {LABELING_ADMIN}),
        ("post", reverse("inspection:model_threshold", args=[version.pk]), {LABELING_ADMIN}),
        ("post", reverse("inspection:model_activate", args=[version.pk]), {LABELING_ADMIN}),
        ("post", reverse("inspection:training_start"), {LABELING_ADMIN}),
        ("get", reverse("inspection:dashboard"), {OPERATIONS_MANAGER, LABELING_ADMIN}),
    ]


@pytest.mark.parametrize("role", [INSPECTOR, OPERATIONS_MANAGER, LABELING_ADMIN, None])
def test_role_sees_only_its_screens(client, objects, role):
    client.force_login(user_in_role(f"user-{role}", role))

    for method, url, allowed in screens(objects):
        response = getattr(client, method)(url)
        if role in allowed:
            assert response.status_code != 403, f"{role} refused at {method} {url}"
        else:
            assert response.status_code == 403, f"{role} got {response.status_code} at {method} {url}"


def test_superuser_sees_every_screen(client, objects):
    client.force_login(user_in_role("root", is_superuser=True))

    for method, url, _allowed in screens(objects):
        assert getattr(client, method)(url).status_code != 403, url


def test_anonymous_user_is_sent_to_login(client, objects):
    for method, url, _allowed in screens(objects):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


def test_refused_page_shows_no_data(client, objects):
    client.force_login(user_in_role("manager", OPERATIONS_MANAGER))

    response = client.get(reverse("inspection:queue"))

    assert response.status_code == 403
    assert "12가3456" not in response.content.decode()


@pytest.mark.parametrize(
    "role, screen",
    [(INSPECTOR, "inspection:queue"), (OPERATIONS_MANAGER, "inspection:orders"), (LABELING_ADMIN, "inspection:queue")],
)
def test_home_opens_the_role_screen(client, role, screen):
    client.force_login(user_in_role("someone", role))

    response = client.get("/")

    assert client.get(response["Location"])["Location"] == reverse(screen)


def test_user_without_role_is_told_so(client):
    client.force_login(user_in_role("nobody"))

    response = client.get(reverse("inspection:home"))

    assert response.status_code == 403


def test_expired_session_sends_htmx_page_to_login(client):
    response = client.post("/queue/photos/1/review/", HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/queue/?date=2026-12-03")

    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/accounts/login/?next=")
    assert "queue" in response["HX-Redirect"]


def test_malformed_review_and_dispatch_fields_are_not_server_errors(client):
    inspector = user_in_role("inspector-odd", INSPECTOR)
    photo = make_photo()
    client.force_login(inspector)

    review = client.post(f"/queue/photos/{photo.pk}/review/", {"action": "confirm", "revision": "²"})
    dispatch = client.post(f"/queue/cars/{photo.car_id}/dispatch/", {"kind": "wash", "photos": ["abc", str(photo.pk)]})

    assert review.status_code < 500
    assert dispatch.status_code < 500
    assert WorkOrder.objects.filter(car=photo.car, kind="wash").count() == 1
