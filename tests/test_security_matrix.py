"""One permission matrix over every URL of the screens and the API, for each kind of caller.

The URL resolver is walked, so a new URL without a row in MATRIX fails
`test_every_url_has_a_row`. Each row gives the status code expected for an anonymous
caller, a logged-in user without a role, an inspector, an operations manager and a
labeling admin. Screens redirect anonymous callers to the log-in page; the API returns 401.
Callers log in with a session here; tests/test_api_permissions.py covers token callers.
"""
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from PIL import Image

from inference.models import InferenceRun, TrainingJob
from inspection.models import Car, WorkOrder
from inspection.roles import INSPECTOR, LABELING_ADMIN, OPERATIONS_MANAGER
from tests.inspection_data import jpeg_bytes, make_photo, make_version, predict, user_in_role

pytestmark = pytest.mark.django_db

PROJECT_ROOT = Path(__file__).resolve().parent.parent

CALLERS = ("anonymous", "no role", "inspector", "operations manager", "labeling admin")
ROLES = {"no role": None, "inspector": INSPECTOR, "operations manager": OPERATIONS_MANAGER, "labeling admin": LABELING_ADMIN}
# Expected code of an anonymous caller on a screen: a redirect to the log-in page.
LOGIN = "login"
# The Django admin guards its own views (staff only) and is checked apart from the matrix.
UNLISTED_NAMESPACES = ("admin",)


@dataclass(frozen=True)
class Row:
    """One request to a URL and the status code each caller in CALLERS gets."""

    method: str
    path: str
    expected: tuple
    body: dict | None = None
    content_type: str = "form"


def screen(method, path, allowed, body=None, ok=200):
    """Build a screen row: log-in page when anonymous, `ok` for the roles in `allowed`, else 403."""
    expected = (LOGIN,) + tuple(ok if caller in allowed else 403 for caller in CALLERS[1:])
    return Row(method, path, expected, body)


def api(method, path, allowed, body=None, ok=200, content_type="json"):
    """Build an API row: 401 when anonymous, `ok` for the roles in `allowed`, else 403."""
    expected = (401,) + tuple(ok if caller in allowed else 403 for caller in CALLERS[1:])
    return Row(method, path, expected, body, content_type)


EVERY_ROLE = {"inspector", "operations manager", "labeling admin"}
REVIEWERS = {"inspector"}
MANAGERS = {"operations manager"}
ADMINS = {"labeling admin"}
QUEUE_READERS = {"inspector", "labeling admin"}
DASHBOARD_READERS = {"operations manager", "labeling admin"}
UPLOADERS = {"inspector", "labeling admin"}

# Keyed by URL name, or by the route for an unnamed URL. {photo}, {order} and the other
# placeholders are filled with the ids of the `world` fixture.
MATRIX = {
    "": [Row("get", "/", (302,) * 5)],
    "login": [Row("get", "/accounts/login/", (200,) * 5)],
    # Without LOGOUT_REDIRECT_URL the log-out view renders its "logged out" page.
    "logout": [Row("post", "/accounts/logout/", (200,) * 5)],
    "set_language": [Row("post", "/i18n/setlang/", (302,) * 5, {"language": "en", "next": "/"})],
    "inspection:home": [Row("get", "/home/", (LOGIN, 403, 302, 302, 302))],
    "inspection:queue": [screen("get", "/queue/", QUEUE_READERS)],
    "inspection:review": [
        screen("post", "/queue/photos/{photo}/review/", REVIEWERS, {"action": "confirm", "revision": "0"}, ok=302),
    ],
    "inspection:undo": [screen("post", "/queue/photos/{photo}/undo/", REVIEWERS, ok=302)],
    "inspection:dispatch": [
        screen("post", "/queue/cars/{car}/dispatch/", REVIEWERS, {"kind": "repair", "photos": "{photo}"}, ok=302),
    ],
    "inspection:withdraw": [screen("post", "/queue/orders/{order}/withdraw/", REVIEWERS, ok=302)],
    "inspection:photo_detail": [screen("get", "/photos/{photo}/", EVERY_ROLE)],
    "inspection:photo_image": [screen("get", "/photos/{photo}/image/", EVERY_ROLE)],
    "inspection:photo_thumbnail": [screen("get", "/photos/{photo}/thumbnail/", EVERY_ROLE)],
    "inspection:orders": [screen("get", "/orders/", MANAGERS)],
    "inspection:order_status": [screen("post", "/orders/{order}/status/", MANAGERS, {"status": "dispatched"}, ok=302)],
    "inspection:orders_csv": [screen("get", "/orders/export.csv", MANAGERS)],
    "inspection:orders_xlsx": [screen("get", "/orders/export.xlsx", MANAGERS)],
    "inspection:relabel": [
        screen("get", "/labeling/relabel/", ADMINS),
        screen("post", "/labeling/relabel/", ADMINS, {"photos": "{photo}", "labels": "DEFECT"}, ok=302),
    ],
    "inspection:labels": [
        screen("get", "/labeling/labels/", ADMINS),
        screen("post", "/labeling/labels/", ADMINS, {"code": "SCRATCH", "name_en": "Scratch", "name_ko": "긁힘", "action": "repair"}, ok=302),
    ],
    "inspection:models": [screen("get", "/labeling/models/", ADMINS)],
    "inspection:model_threshold": [
        screen("post", "/labeling/models/{version}/threshold/", ADMINS, {"v{version}-ood_threshold": "2.5"}, ok=302),
    ],
    "inspection:model_activate": [screen("post", "/labeling/models/{version}/activate/", ADMINS, ok=302)],
    "inspection:model_figure": [screen("get", "/labeling/models/{version}/figures/confusion_matrix/", ADMINS)],
    "inspection:training_start": [screen("post", "/labeling/training/", ADMINS, ok=302)],
    "inspection:training_job": [screen("get", "/labeling/training/{job}/", ADMINS)],
    "inspection:audit_log": [screen("get", "/labeling/audit/", ADMINS)],
    "inspection:dashboard": [screen("get", "/dashboard/", DASHBOARD_READERS)],
    "api:queue": [api("get", "/api/v1/queue/", QUEUE_READERS)],
    "api:photo-list": [
        api("get", "/api/v1/photos/", EVERY_ROLE),
        api("post", "/api/v1/photos/", UPLOADERS, {"car": "12가3456", "event": "after_trip"}, ok=201, content_type="multipart"),
    ],
    "api:photo-detail": [api("get", "/api/v1/photos/{photo}/", EVERY_ROLE)],
    "api:prediction-list": [api("get", "/api/v1/predictions/", EVERY_ROLE)],
    "api:prediction-detail": [api("get", "/api/v1/predictions/{prediction}/", EVERY_ROLE)],
    "api:review-list": [api("post", "/api/v1/reviews/", REVIEWERS, {"photo": "{photo}", "action": "confirm", "revision": 0}, ok=201)],
    "api:order-list": [
        api("get", "/api/v1/orders/", MANAGERS),
        api("post", "/api/v1/orders/", REVIEWERS, {"car": "12가3456", "kind": "repair"}, ok=201),
    ],
    "api:order-export": [api("get", "/api/v1/orders/export/", MANAGERS)],
    "api:order-detail": [api("get", "/api/v1/orders/{order}/", MANAGERS)],
    "api:order-status": [api("post", "/api/v1/orders/{order}/status/", MANAGERS, {"status": "dispatched"})],
    "api:label-list": [
        api("get", "/api/v1/labels/", EVERY_ROLE),
        api("post", "/api/v1/labels/", ADMINS, {"code": "SCRATCH", "name_en": "Scratch", "name_ko": "긁힘", "action": "repair"}, ok=201),
    ],
    "api:label-detail": [
        api("get", "/api/v1/labels/DIRT/", EVERY_ROLE),
        api("patch", "/api/v1/labels/DIRT/", ADMINS, {"name_ko": "오염"}),
    ],
    "api:model-version-list": [api("get", "/api/v1/model-versions/", EVERY_ROLE)],
    "api:model-version-detail": [api("get", "/api/v1/model-versions/{version}/", EVERY_ROLE)],
    "api:model-version-activate": [api("post", "/api/v1/model-versions/{version}/activate/", ADMINS)],
    "api:run-list": [
        api("get", "/api/v1/runs/", EVERY_ROLE),
        api("post", "/api/v1/runs/", ADMINS, {"date": "2026-12-03"}, ok=201),
    ],
    "api:run-detail": [api("get", "/api/v1/runs/{run}/", EVERY_ROLE)],
    # Any other path under /api/v1/ returns a JSON 404, before authentication.
    "api/v1/": [Row("get", "/api/v1/no-such-resource/", (404,) * 5)],
    # The OpenAPI schema and its viewers describe the API without any data, so they are public.
    "api:schema": [Row("get", "/api/schema/", (200,) * 5)],
    "api:swagger": [Row("get", "/api/schema/swagger/", (200,) * 5)],
    "api:redoc": [Row("get", "/api/schema/redoc/", (200,) * 5)],
}

CELLS = [
    pytest.param(key, index, caller, id=f"{key or 'root'}-{row.method}-{caller}")
    for key, rows in MATRIX.items()
    for index, row in enumerate(rows)
    for caller in CALLERS
]


def url_keys(patterns, prefix="", namespace=""):
    """Yield the MATRIX key of every URL: its namespaced name, or its route when unnamed.

    Routes are joined as ResolverMatch.route joins them, without the leading ^ of a regex.
    """
    for pattern in patterns:
        route = prefix + str(pattern.pattern).removeprefix("^")
        if isinstance(pattern, URLResolver):
            if pattern.namespace in UNLISTED_NAMESPACES:
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_keys(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name}" if pattern.name else route


def png_bytes():
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 40, 40)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def world():
    """One of every object a URL names: a photo with its prediction, an order, a job, a run."""
    photo = make_photo(plate="12가3456")
    figure = default_storage.save("evaluations/confusion_matrix.png", ContentFile(png_bytes()))
    version = make_version(metrics={"accuracy": 0.9}, evaluation={"figures": {"confusion_matrix": figure}})
    prediction = predict(photo, version)
    car = Car.objects.get(plate="12가3456")
    order = WorkOrder.objects.create(car=car, kind="wash", created_by=user_in_role("dispatcher", INSPECTOR))
    job = TrainingJob.objects.create()
    run = InferenceRun.objects.create(target_date=photo.uploaded_at.date(), model_version=version)
    return {"photo": photo, "car": car, "version": version, "prediction": prediction, "order": order, "job": job, "run": run}


def fill(value, world):
    ids = {name: instance.pk for name, instance in world.items()}
    return value.format(**ids) if isinstance(value, str) else value


def send(client, row, world, headers=None):
    """Send the request of `row`, its placeholders filled from `world`, with extra `headers`."""
    path = fill(row.path, world)
    body = {fill(name, world): fill(value, world) for name, value in (row.body or {}).items()}
    headers = headers or {}
    if row.content_type == "json":
        return getattr(client, row.method)(path, body, content_type="application/json", headers=headers)
    if row.content_type == "multipart":
        body["image"] = SimpleUploadedFile("upload.jpg", jpeg_bytes(), content_type="image/jpeg")
    return getattr(client, row.method)(path, body, headers=headers)


def test_every_url_has_a_row():
    keys = set(url_keys(get_resolver().url_patterns))

    assert sorted(keys - set(MATRIX)) == [], "add these URLs to MATRIX with the status code of each caller"
    assert sorted(set(MATRIX) - keys) == [], "these MATRIX rows name URLs that no longer exist"


def test_every_row_requests_its_own_url():
    placeholder_ids = {name: 1 for name in ("photo", "car", "version", "prediction", "order", "job", "run")}

    for key, rows in MATRIX.items():
        for row in rows:
            match = resolve(row.path.format(**placeholder_ids))
            assert (match.view_name if match.url_name else match.route) == key, row.path


@pytest.mark.parametrize("key, index, caller", CELLS)
def test_permission_matrix(client, world, key, index, caller):
    row = MATRIX[key][index]
    expected = row.expected[CALLERS.index(caller)]
    if caller != "anonymous":
        client.force_login(user_in_role(f"caller-{caller.replace(' ', '-')}", ROLES[caller]))

    response = send(client, row, world)

    if expected == LOGIN:
        assert response.status_code == 302, response.content[:300]
        assert response["Location"].startswith(reverse("login") + "?next="), response["Location"]
    else:
        assert response.status_code == expected, response.content[:300]
    if expected == 401:
        assert response["WWW-Authenticate"] == "Token"


def test_photo_files_are_never_served_from_media_url(client, world):
    photo = world["photo"]
    client.force_login(user_in_role("inspector", INSPECTOR))
    media_url = "/" + settings.MEDIA_URL.lstrip("/")
    media_paths = [media_url + photo.file.name, media_url + photo.thumbnail.name]

    image = client.get(reverse("inspection:photo_image", args=[photo.pk]))

    assert image.status_code == 200
    assert b"".join(image.streaming_content) == photo.file.open("rb").read()
    assert image["Cache-Control"] == "private, max-age=86400"
    for path in media_paths:
        assert client.get(path).status_code == 404, path


def test_api_links_photos_through_the_guarded_view(client, world):
    photo = world["photo"]
    client.force_login(user_in_role("inspector", INSPECTOR))

    body = client.get(f"/api/v1/photos/{photo.pk}/").json()

    assert body["image_url"].endswith(reverse("inspection:photo_image", args=[photo.pk]))
    assert body["thumbnail_url"].endswith(reverse("inspection:photo_thumbnail", args=[photo.pk]))


def test_admin_refuses_every_role(client):
    for role in (INSPECTOR, OPERATIONS_MANAGER, LABELING_ADMIN):
        client.force_login(user_in_role(f"admin-{role.replace(' ', '-')}", role))

        response = client.get("/admin/")

        assert response.status_code == 302, role
        assert response["Location"].startswith("/admin/login/"), role


def test_production_urls_serve_no_media():
    """Under the production settings, no URL under MEDIA_URL resolves to a view."""
    script = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "from django.urls import Resolver404, resolve\n"
        "assert not settings.DEBUG\n"
        "for path in ('photos/2026/12/04/front.jpg', 'thumbnails/1.jpg', 'models/v1.pt'):\n"
        "    try:\n"
        "        match = resolve('/' + settings.MEDIA_URL.lstrip('/') + path)\n"
        "    except Resolver404:\n"
        "        continue\n"
        "    raise SystemExit(f'{path} resolves to {match.func!r}')\n"
        "print('no media URL')\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sofar_site.settings.production",
        "DJANGO_SECRET_KEY": "test-only-secret-key-for-the-url-check-0123456789",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    }

    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "no media URL"
