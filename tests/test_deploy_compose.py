"""docker-compose.yml starts every process with commands, queues and settings the code has.

No Docker engine is needed: the file is parsed, and its environment is loaded through
the real production settings in a separate process.
"""
import json
import os
import subprocess
import sys

import pytest
import yaml

from tests.deploy_checks import (
    APP_IMAGES, PROJECT_ROOT, celery_queues, command_problems, image_name, interpolate, known_variables, url_host,
    worker_queues,
)

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = {name: service for name, service in SERVICES.items() if image_name(service.get("image", "")) in APP_IMAGES}
# What a person sets before `docker compose up`, as the file's header says.
USER_ENVIRONMENT = {"DJANGO_SECRET_KEY": "x" * 50}


def environment_of(service):
    return {name: interpolate(value, USER_ENVIRONMENT) for name, value in service.get("environment", {}).items()}


def test_compose_runs_every_process_of_the_app():
    commands = {name: " ".join(service["command"]) for name, service in APP_SERVICES.items()}

    assert any(command.startswith("gunicorn ") for command in commands.values())
    assert any(" beat " in command for command in commands.values())
    assert any("manage.py migrate" in command for command in commands.values())
    assert {"postgres", "redis", "minio", "flower"} <= set(SERVICES)


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_compose_app_command_exists(name):
    assert command_problems(APP_SERVICES[name]["command"]) == []


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_compose_environment_is_read_by_settings(name):
    unknown = set(APP_SERVICES[name].get("environment", {})) - known_variables()

    assert unknown == set(), f"{name} sets variables no setting reads"


def test_compose_workers_consume_every_queue():
    consumed = set()
    for service in APP_SERVICES.values():
        consumed |= worker_queues(service["command"]) or set()

    assert consumed == celery_queues()


def test_compose_urls_name_compose_services():
    environment = environment_of(APP_SERVICES["web"])

    assert url_host(environment["DATABASE_URL"])[0] in SERVICES
    assert url_host(environment["CELERY_BROKER_URL"])[0] in SERVICES
    assert url_host(environment["AWS_S3_ENDPOINT_URL"])[0] in SERVICES
    assert url_host(environment["SOFAR_CACHE_URL"])[0] in SERVICES


def test_compose_cache_is_not_the_broker_and_evicts():
    """An LRU cache on the broker's Redis could evict queued tasks; a cache without a limit fills memory."""
    environment = environment_of(APP_SERVICES["web"])
    cache_host = url_host(environment["SOFAR_CACHE_URL"])[0]
    command = " ".join(SERVICES[cache_host]["command"])

    assert cache_host != url_host(environment["CELERY_BROKER_URL"])[0]
    assert "--maxmemory-policy allkeys-lru" in command
    assert "--maxmemory " in command


def test_compose_gpu_worker_reserves_an_nvidia_gpu():
    worker = SERVICES["worker-inference-gpu"]
    devices = worker["deploy"]["resources"]["reservations"]["devices"]

    assert worker["profiles"] == ["gpu"]
    assert devices[0]["driver"] == "nvidia"
    assert "gpu" in devices[0]["capabilities"]
    assert environment_of(worker)["SOFAR_DEVICE"] == "cuda"
    assert worker_queues(worker["command"]) == {"inference"}


def test_compose_long_running_services_have_health_checks():
    for name, service in SERVICES.items():
        one_shot = service.get("restart") == "no" or name == "create-bucket"
        if not one_shot and name not in {"beat", "flower"}:
            assert "healthcheck" in service, f"{name} has no health check"


def test_compose_environment_loads_production_settings():
    """The web service's environment, given to the real settings, selects PostgreSQL, Redis and S3."""
    environment = {**os.environ, **environment_of(APP_SERVICES["web"]), "SOFAR_DATA_DIR": str(PROJECT_ROOT / "data" / "compose-check")}
    script = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], 'broker': settings.CELERY_BROKER_URL, "
        "'storage': settings.STORAGES['default']['BACKEND'], 'bucket': settings.STORAGES['default']['OPTIONS']['bucket_name'], "
        "'time_zone': settings.TIME_ZONE, 'debug': settings.DEBUG, 'cache': settings.CACHES['default']['BACKEND'], "
        "'sessions': settings.SESSION_ENGINE, 'shared_cache_seconds': settings.SOFAR_SHARED_CACHE_SECONDS}))"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])

    assert loaded["engine"] == "django.db.backends.postgresql"
    assert loaded["broker"] == "redis://redis:6379/0"
    assert loaded["storage"] == "storages.backends.s3.S3Storage"
    assert loaded["bucket"] == "sofar-media"
    assert loaded["time_zone"] == "Asia/Seoul"
    assert loaded["debug"] is False
    assert loaded["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert loaded["sessions"] == "django.contrib.sessions.backends.db"
    assert loaded["shared_cache_seconds"] > 0
