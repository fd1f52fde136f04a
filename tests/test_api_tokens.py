"""Issuing and revoking API tokens with the management commands."""
import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from inspection.roles import INSPECTOR
from tests.inspection_data import user_in_role

pytestmark = pytest.mark.django_db


def issue(*args):
    output = io.StringIO()
    call_command("issue_api_token", *args, stdout=output, stderr=io.StringIO())
    return output.getvalue().strip()


def token_client(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_issued_token_authenticates_the_user():
    user_in_role("mina", INSPECTOR)

    key = issue("mina")

    assert Token.objects.get(user__username="mina").key == key
    assert token_client(key).get("/api/v1/queue/").status_code == 200


def test_second_issue_needs_replace():
    user_in_role("mina", INSPECTOR)
    old = issue("mina")

    with pytest.raises(CommandError, match="--replace"):
        issue("mina")
    new = issue("mina", "--replace")

    assert new != old
    assert token_client(old).get("/api/v1/queue/").status_code == 401
    assert token_client(new).get("/api/v1/queue/").status_code == 200


def test_revoked_token_is_refused():
    user_in_role("mina", INSPECTOR)
    key = issue("mina")

    call_command("revoke_api_token", "mina", stdout=io.StringIO())

    assert not Token.objects.exists()
    assert token_client(key).get("/api/v1/queue/").status_code == 401


def test_revoke_without_token_fails():
    user_in_role("mina", INSPECTOR)

    with pytest.raises(CommandError, match="has no API token"):
        call_command("revoke_api_token", "mina", stdout=io.StringIO())


@pytest.mark.parametrize("username, message", [("nobody", "No user"), ("gone", "inactive")])
def test_issue_refuses_unknown_and_inactive_users(username, message):
    user_in_role("gone", INSPECTOR, is_active=False)

    with pytest.raises(CommandError, match=message):
        issue(username)
    assert not Token.objects.exists()
