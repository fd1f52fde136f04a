"""The OpenAPI schema, its offline viewers, and a schemathesis fuzz run against a live server."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.test import Client
from pytest_django.live_server_helper import LiveServer
from rest_framework.authtoken.models import Token

from inspection.models import WorkOrder
from tests.inspection_data import make_photo, make_version, predict, user_in_role

ROLE_CHECKED_ERRORS = {"401", "403"}


@pytest.fixture
def schema():
    response = Client().get("/api/schema/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


@pytest.mark.django_db
def test_schema_is_openapi_3_with_every_endpoint(schema):
    paths = set(schema["paths"])

    assert schema["openapi"].startswith("3.")
    assert {
        "/api/v1/photos/", "/api/v1/photos/{id}/", "/api/v1/predictions/", "/api/v1/queue/", "/api/v1/reviews/",
        "/api/v1/orders/", "/api/v1/orders/{id}/status/", "/api/v1/orders/export/", "/api/v1/labels/",
        "/api/v1/labels/{code}/", "/api/v1/model-versions/", "/api/v1/model-versions/{id}/activate/", "/api/v1/runs/",
    } <= paths


@pytest.mark.django_db
def test_every_operation_documents_shapes_and_errors(schema):
    for path, method, operation in operations(schema):
        name = f"{method.upper()} {path}"
        codes = set(operation["responses"])
        assert operation.get("summary"), name
        assert ROLE_CHECKED_ERRORS <= codes, name
        assert any(code.startswith("2") for code in codes), name
        for code, response in operation["responses"].items():
            assert response.get("content"), f"{name} {code} has no body schema"
        if "{" in path:
            assert "404" in codes, name
        if "requestBody" in operation:
            assert "400" in codes, name
        if method == "post" and path.endswith(("reviews/", "status/")):
            assert "409" in codes, name


@pytest.mark.django_db
def test_upload_documents_limits_and_throttle(schema):
    upload = schema["paths"]["/api/v1/photos/"]["post"]

    assert {"201", "200", "400", "409", "413", "429"} <= set(upload["responses"])
    assert "multipart/form-data" in upload["requestBody"]["content"]


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["/api/schema/swagger/", "/api/schema/redoc/"])
def test_schema_viewers_load_only_local_files(page):
    html = Client().get(page).content.decode()

    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "the page references another host"
    assets = re.findall(r"""(?:src|href)=["'](/static/[^"']+)""", html)
    assert assets
    for asset in assets:
        assert finders.find(asset.removeprefix("/static/")), f"{asset} is not a local static file"


FUZZ_CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


@pytest.fixture
def loopback_server():
    """A live server of the test database on 127.0.0.1, on a port the kernel picks free."""
    server = LiveServer("127.0.0.1:0")
    yield server
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_server_error_or_schema_mismatch(loopback_server, tmp_path):
    """Fuzz every operation as a superuser: no 5xx, and each response matches the schema."""
    admin = user_in_role("fuzzer", is_superuser=True)
    photo = make_photo(plate="12가3456")
    predict(photo, make_version())
    WorkOrder.objects.create(car=photo.car, kind=WorkOrder.Kind.WASH, created_by=admin)
    token = Token.objects.create(user=admin).key
    command = [
        Path(sys.executable).with_name("schemathesis"), "run", f"{loopback_server.url}/api/schema/?format=json",
        "--url", f"{loopback_server.url}",
        "--header", f"Authorization: Token {token}",
        "--checks", FUZZ_CHECKS,
        # The coverage phase (boundary values of every parameter) takes minutes on two cores;
        # fuzzing with a fixed seed keeps the run near half a minute.
        "--phases", "examples,fuzzing",
        "--max-examples", "15",
        "--workers", "1",
        "--seed", "1",
        "--no-shrink",
        "--request-timeout", "20",
        "--suppress-health-check", "all",
        "--report", "junit", "--report-dir", str(tmp_path),
    ]

    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300, env={**os.environ, "NO_COLOR": "1"})

    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
