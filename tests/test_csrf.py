"""CSRF protection on every state-changing request of the screens and of the API.

The requests come from the permission matrix, so a new POST URL is checked here as soon
as it has a row there. Each is sent by a caller allowed to make it, once without the
CSRF token (rejected, nothing changed) and once with it (accepted).
"""
import dataclasses

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from audit.models import AuditEntry
from inference.models import InferenceRun, ModelVersion, TrainingJob
from inspection.models import Label, Photo, Review, TrainingLabel, WorkOrder
from tests.inspection_data import user_in_role
from tests.test_security_matrix import CALLERS, LOGIN, MATRIX, ROLES, send, world  # noqa: F401 - world is a fixture

pytestmark = pytest.mark.django_db

WATCHED_MODELS = (AuditEntry, InferenceRun, Label, ModelVersion, Photo, Review, TrainingJob, TrainingLabel, WorkOrder)
HTMX = {"HX-Request": "true"}


def changing_rows(api):
    """Return (key, index, caller) of each state-changing MATRIX row, with a caller allowed to send it."""
    rows = []
    for key, entries in MATRIX.items():
        for index, row in enumerate(entries):
            if row.method == "get" or key.startswith("api") != api:
                continue
            allowed = [caller for caller, code in zip(CALLERS, row.expected) if code not in (LOGIN, 401, 403)]
            # The last allowed caller is a role when any role is allowed, else anonymous.
            rows.append(pytest.param(key, index, allowed[-1], id=f"{key}-{row.method}"))
    return rows


def state(models=WATCHED_MODELS):
    return {model.__name__: model.objects.count() for model in models}


def logged_in_client(caller, **options):
    client = Client(enforce_csrf_checks=True, **options)
    if caller != "anonymous":
        client.force_login(user_in_role(f"caller-{caller.replace(' ', '-')}", ROLES[caller]))
    return client


def csrf_token(client):
    """Return the CSRF token of the client's session, as a page with a form hands it out."""
    client.get("/accounts/login/")
    return client.cookies["csrftoken"].value


def is_csrf_failure(response):
    return response.status_code == 403 and b"CSRF" in response.content


def test_state_changing_requests_are_listed():
    assert len(changing_rows(api=False)) >= 12
    assert len(changing_rows(api=True)) >= 8


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain form"])
@pytest.mark.parametrize("key, index, caller", changing_rows(api=False))
def test_screen_post_without_token_is_rejected(world, key, index, caller, headers):
    client = logged_in_client(caller)
    before = state()

    response = send(client, MATRIX[key][index], world, headers=headers)

    assert is_csrf_failure(response), response.status_code
    assert state() == before


@pytest.mark.parametrize("key, index, caller", changing_rows(api=False))
def test_screen_post_with_htmx_token_is_accepted(world, key, index, caller):
    client = logged_in_client(caller)
    token = csrf_token(client)

    response = send(client, MATRIX[key][index], world, headers={**HTMX, "X-CSRFToken": token})

    assert response.status_code in (200, 302), response.content[:300]


@pytest.mark.parametrize("key, index, caller", changing_rows(api=False))
def test_screen_post_with_form_token_is_accepted(world, key, index, caller):
    client = logged_in_client(caller)
    row = MATRIX[key][index]
    row = dataclasses.replace(row, body={**(row.body or {}), "csrfmiddlewaretoken": csrf_token(client)})

    response = send(client, row, world)

    assert response.status_code in (200, 302), response.content[:300]


def test_login_without_token_is_rejected():
    user_in_role("mina")
    client = Client(enforce_csrf_checks=True)

    response = client.post("/accounts/login/", {"username": "mina", "password": "secret-pass-1"})

    assert is_csrf_failure(response)
    assert "_auth_user_id" not in client.session


def test_login_with_token_is_accepted():
    user_in_role("mina")
    client = Client(enforce_csrf_checks=True)
    token = csrf_token(client)

    response = client.post("/accounts/login/", {"username": "mina", "password": "secret-pass-1", "csrfmiddlewaretoken": token})

    assert response.status_code == 302
    assert "_auth_user_id" in client.session


@pytest.mark.parametrize("key, index, caller", changing_rows(api=True))
def test_api_session_without_token_is_rejected(world, key, index, caller):
    client = logged_in_client(caller)
    before = state()

    response = send(client, MATRIX[key][index], world)

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert state() == before


@pytest.mark.parametrize("key, index, caller", changing_rows(api=True))
def test_api_session_with_token_is_accepted(world, key, index, caller):
    client = logged_in_client(caller)
    token = csrf_token(client)
    row = MATRIX[key][index]

    response = send(client, row, world, headers={"X-CSRFToken": token})

    assert response.status_code == row.expected[CALLERS.index(caller)], response.content[:300]


@pytest.mark.parametrize("key, index, caller", changing_rows(api=True))
def test_api_token_needs_no_csrf(world, key, index, caller):
    user = user_in_role(f"caller-{caller.replace(' ', '-')}", ROLES[caller])
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Token {Token.objects.create(user=user).key}"})
    row = MATRIX[key][index]

    response = send(client, row, world)

    assert response.status_code == row.expected[CALLERS.index(caller)], response.content[:300]
