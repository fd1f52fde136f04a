"""Fixtures shared by the suite: the shared photos, a real Celery worker, users."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("SOFAR_SHARED_DATA", PROJECT_ROOT.parent / "shared" / "data"))


def shared_data_path(*parts):
    """Return a folder of the shared data, skipping the test where it is absent.

    Under CI (CI=true) a missing folder fails the test instead: CI must run every test.
    """
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        message = f"shared data {path} not found; set SOFAR_SHARED_DATA to the folder holding sofar/"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def sofar_data():
    return shared_data_path("sofar")


@pytest.fixture(autouse=True)
def isolated_media(settings, tmp_path_factory):
    """Give each test its own media folder; the feature cache stays shared across tests."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def migration_seeded_rows(request):
    """Put back the labels and role groups that data migrations create, before each transactional test.

    A transactional test flushes every table when it ends, so without this the next one
    would start with no labels and no role groups, depending on test order. The flush
    itself recreates permissions and content types.
    """
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server", "celery_worker", "workers"} & set(request.fixturenames)
    )
    # Serialized rollback is not used for this: it loads back content types that the
    # flush of an earlier transactional test has already recreated, and fails on them.
    if not transactional:
        return
    request.getfixturevalue("transactional_db")
    from inspection.roles import ROLE_PERMISSIONS
    from tests.inspection_data import restore_label_scheme, role_group

    restore_label_scheme()
    for role in ROLE_PERMISSIONS:
        role_group(role)


def database_url():
    """Return a URL of the test database, for processes started by a test."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def purge_broker():
    from sofar_site.celery import app

    for queue in ("inference", "training", "default"):
        try:
            with app.connection_for_write() as conn:
                conn.default_channel.queue_purge(queue)
        except Exception:  # noqa: BLE001 - a queue that does not exist yet has nothing to purge
            pass


@pytest.fixture
def celery_worker(transactional_db, isolated_media, tmp_path):
    """Start a real `celery worker` process on the test database, broker and media folder."""
    purge_broker()
    log_path = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sofar_site.settings.test",
        "DATABASE_URL": database_url(),
        "DJANGO_MEDIA_ROOT": str(isolated_media),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    command = [
        sys.executable, "-m", "celery", "-A", "sofar_site", "worker",
        "--queues", "inference,training", "--concurrency", "1", "--pool", "prefork",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO",
        "--hostname", f"test-{os.getpid()}@%h",
    ]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while "ready." not in log_path.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"Celery worker did not start:\n{log_path.read_text()}")
        time.sleep(0.2)
    process.log_path = log_path
    yield process
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def pytest_terminal_summary(terminalreporter):
    """Print the figures of the bad-input and fault tests (tests/reliability.py)."""
    from tests.reliability import write_summary

    write_summary(terminalreporter, settings.TEST_DATA_DIR)
