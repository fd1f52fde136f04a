"""Production settings: `check --deploy` passes, cookies are secure, secrets come from the environment."""
import json
import os
import subprocess
import sys

from tests.conftest import PROJECT_ROOT

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "sofar_site.settings.production",
    "DJANGO_SECRET_KEY": "a-production-secret-of-enough-length-and-variety-0123456789-XYZ",
    "DJANGO_ALLOWED_HOSTS": "sofar.example.com",
}


def run_in_production(arguments, **overrides):
    env = {**os.environ, **PRODUCTION_ENV, **overrides}
    env = {name: value for name, value in env.items() if value is not None}
    return subprocess.run(
        [sys.executable, *arguments], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_deploy_check_is_clean():
    result = run_in_production(["manage.py", "check", "--deploy", "--fail-level", "WARNING"])

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_cookies_and_debug():
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, "
        "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS > 0, s.SECRET_KEY == '" + PRODUCTION_ENV["DJANGO_SECRET_KEY"] + "']))"
    )
    result = run_in_production(["-c", script])

    assert result.returncode == 0, result.stderr
    debug, session_secure, csrf_secure, session_http_only, ssl_redirect, hsts, secret_from_env = json.loads(result.stdout)
    assert debug is False
    assert session_secure is True
    assert csrf_secure is True
    assert session_http_only is True
    assert ssl_redirect is True
    assert hsts is True
    assert secret_from_env is True


def test_production_without_secret_key_fails():
    result = run_in_production(["manage.py", "check"], DJANGO_SECRET_KEY=None)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set in production" in result.stderr


def test_media_has_no_public_url():
    script = (
        "import django; django.setup(); from django.urls import resolve, Resolver404\n"
        "try:\n    resolve('/media/photos/2026/11/20/0123456789abcdef0123456789abcdef.jpg')\n"
        "except Resolver404:\n    print('not served')\nelse:\n    print('served')"
    )
    result = run_in_production(["-c", script])

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "not served"
