"""The shared cache of the queue and the API lists: served again until a write, and never stale after one."""
import re
import threading
import time
import uuid
from datetime import date

import numpy as np
import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from inference.services.predictions import record_predictions
from inspection import shared_cache
from inspection.models import Label
from inspection.roles import INSPECTOR
from inspection.services.orders import dispatch_order
from inspection.services.reviews import submit_review
from tests.inspection_data import jpeg_bytes, make_photo, make_version, predict, user_in_role

pytestmark = pytest.mark.django_db

DAY = date(2026, 12, 3)
OTHER_DAY = date(2026, 12, 2)
QUEUE_URL = f"{reverse('inspection:queue')}?date={DAY.isoformat()}"


@pytest.fixture(autouse=True)
def cache_available(monkeypatch):
    """Forget a cache failure that an earlier test left this process waiting out."""
    monkeypatch.setattr(shared_cache, "_unavailable_until", 0.0)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the commit callbacks of the writes inside it, as a real commit would; the test's transaction never commits."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def caching(settings):
    settings.SOFAR_SHARED_CACHE_SECONDS = 60
    cache.clear()
    yield
    cache.clear()


def counter():
    """Return a build function that returns how many times it ran."""
    builds = []

    def build():
        builds.append(None)
        return len(builds)

    return build


def reads_predictions(queries):
    return any("inference_prediction" in query["sql"] for query in queries.captured_queries)


def test_response_rebuilt_after_write_to_its_day(caching, committed):
    build = counter()

    assert shared_cache.cached(("page",), build, day=DAY) == 1
    assert shared_cache.cached(("page",), build, day=DAY) == 1
    with committed():
        shared_cache.invalidate_days([OTHER_DAY])
    assert shared_cache.cached(("page",), build, day=DAY) == 1
    with committed():
        shared_cache.invalidate_days([DAY])
    assert shared_cache.cached(("page",), build, day=DAY) == 2
    with committed():
        shared_cache.invalidate_all()
    assert shared_cache.cached(("page",), build, day=DAY) == 3


def test_undated_response_follows_every_day(caching, committed):
    build = counter()

    assert shared_cache.cached(("list",), build) == 1
    with committed():
        shared_cache.invalidate_days([OTHER_DAY])
    assert shared_cache.cached(("list",), build) == 2


def test_responses_with_other_parts_are_built_apart(caching):
    build = counter()

    assert shared_cache.cached(("page", "en"), build, day=DAY) == 1
    assert shared_cache.cached(("page", "ko"), build, day=DAY) == 2


def test_nothing_is_cached_when_caching_is_off(settings):
    settings.SOFAR_SHARED_CACHE_SECONDS = 0
    build = counter()

    shared_cache.cached(("page",), build, day=DAY)

    assert shared_cache.cached(("page",), build, day=DAY) == 2


DOWN_CACHE = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}


def test_cache_down_builds_without_it(settings, caplog):
    settings.SOFAR_SHARED_CACHE_SECONDS = 60
    # Nothing listens on port 1 of the loopback interface.
    settings.CACHES = DOWN_CACHE
    build = counter()

    assert shared_cache.cached(("page",), build, day=DAY) == 1
    assert shared_cache.cached(("page",), build, day=DAY) == 2
    shared_cache.invalidate_days([DAY])
    assert "shared cache failed" in caplog.text


def test_failed_cache_is_skipped_for_a_while(settings, caplog):
    settings.SOFAR_SHARED_CACHE_SECONDS = 60
    settings.CACHES = DOWN_CACHE

    shared_cache.cached(("page",), counter(), day=DAY)
    shared_cache.cached(("page",), counter(), day=DAY)

    # The first call failed on the generation numbers; the second did not try the cache again.
    failures = [record for record in caplog.records if "shared cache failed" in record.getMessage()]
    assert len(failures) == 1


def test_photo_upload_works_with_cache_down(settings, api):
    settings.CACHES = DOWN_CACHE
    upload = SimpleUploadedFile("front.jpg", jpeg_bytes())

    response = api.post("/api/v1/photos/", {"image": upload, "car": "12가3456"}, format="multipart")

    assert response.status_code == 201


def test_log_in_keeps_cached_pages(caching, dirty_photo, committed):
    colleague = user_in_role("jun", INSPECTOR)
    _, client = logged_in("mina")
    client.get(QUEUE_URL)

    # Logging in saves the user's last_login.
    with committed():
        Client().force_login(colleague)
    with CaptureQueriesContext(connection) as hit:
        client.get(QUEUE_URL)

    assert not reads_predictions(hit)


def build_in_thread(parts, build):
    """Start a thread asking for `parts`; its result, or the ValueError its build raised, lands in the returned list."""
    results = []

    def run():
        try:
            results.append(shared_cache.cached(parts, build, day=DAY))
        except ValueError as error:
            results.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, results


def test_concurrent_misses_share_one_build(caching):
    started = threading.Event()

    def slow_build():
        started.set()
        time.sleep(0.3)
        return "built once"

    thread, results = build_in_thread(("page",), slow_build)
    started.wait(5)
    waiting = shared_cache.cached(("page",), lambda: "built twice", day=DAY)
    thread.join(5)

    assert waiting == "built once"
    assert results == ["built once"]


def test_slow_builder_is_not_waited_for(caching, monkeypatch):
    monkeypatch.setattr(shared_cache, "BUILD_WAIT_SECONDS", 0.05)
    started, release = threading.Event(), threading.Event()

    def stuck_build():
        started.set()
        release.wait(5)
        return "late"

    thread, _ = build_in_thread(("page",), stuck_build)
    started.wait(5)
    try:
        assert shared_cache.cached(("page",), lambda: "own build", day=DAY) == "own build"
    finally:
        release.set()
        thread.join(5)


def test_failed_build_lets_the_next_request_build(caching, monkeypatch):
    monkeypatch.setattr(shared_cache, "BUILD_WAIT_SECONDS", 30)

    def failing_build():
        raise ValueError("invalid filter")

    with pytest.raises(ValueError):
        shared_cache.cached(("page",), failing_build, day=DAY)
    thread, results = build_in_thread(("page",), lambda: "built")
    thread.join(5)

    # A lock left behind would keep the second request waiting for 30 s.
    assert results == ["built"]


def test_waiting_request_builds_when_the_builder_fails(caching, monkeypatch):
    monkeypatch.setattr(shared_cache, "BUILD_WAIT_SECONDS", 30)
    started, release = threading.Event(), threading.Event()

    def failing_build():
        started.set()
        release.wait(5)
        raise ValueError("invalid filter")

    thread, _ = build_in_thread(("page",), failing_build)
    started.wait(5)
    waiter, results = build_in_thread(("page",), lambda: "own build")
    release.set()
    waiter.join(5)
    thread.join(5)

    # The waiter noticed the released lock instead of waiting 30 s for a value that never came.
    assert results == ["own build"]


@pytest.mark.django_db(transaction=True)
def test_read_before_commit_not_served_after(caching):
    photo = make_photo(day=DAY)

    with transaction.atomic():
        photo.original_name = "renamed.jpg"
        photo.save()
        # A request between the write and the commit still reads the old data, and stores
        # it under the numbers the write has bumped so far.
        shared_cache.cached(("page",), lambda: "read before the commit", day=DAY)

    assert shared_cache.cached(("page",), lambda: "read after the commit", day=DAY) == "read after the commit"


@pytest.fixture
def version():
    return make_version()


@pytest.fixture
def dirty_photo(version):
    photo = make_photo(day=DAY, plate="12가3456", reservation_id="R-1")
    predict(photo, version, top1="DIRT", p1=0.9, top2="NORMAL", p2=0.05)
    return photo


def logged_in(username, **client_options):
    user = user_in_role(username, INSPECTOR)
    client = Client(**client_options)
    client.force_login(user)
    return user, client


def test_queue_page_cached_until_review(caching, dirty_photo, committed):
    inspector, client = logged_in("mina")
    client.get(QUEUE_URL)

    with CaptureQueriesContext(connection) as hit:
        page = client.get(QUEUE_URL).content.decode()
    assert f'data-photo="{dirty_photo.pk}"' in page
    assert not reads_predictions(hit)

    with committed():
        submit_review(dirty_photo, inspector, "confirm")

    assert f'class="photo reviewed" id="photo-{dirty_photo.pk}"' in client.get(QUEUE_URL).content.decode()


def test_queue_page_shows_new_predictions_at_once(caching, version, committed):
    _, client = logged_in("mina")
    photo = make_photo(day=DAY, plate="99가9999")
    assert f'data-photo="{photo.pk}"' not in client.get(QUEUE_URL).content.decode()

    logits = np.zeros(len(version.label_codes), dtype=np.float32)
    logits[version.label_codes.index("DEFECT")] = 8.0
    with committed():
        record_predictions(version, {photo.pk: logits})

    assert f'data-photo="{photo.pk}"' in client.get(QUEUE_URL).content.decode()


def test_queue_page_shows_a_renamed_label(caching, dirty_photo, committed):
    _, client = logged_in("mina", HTTP_ACCEPT_LANGUAGE="en")
    assert "Muddy" not in client.get(QUEUE_URL).content.decode()
    dirt = Label.objects.get(code="DIRT")
    dirt.name_en = "Muddy"
    with committed():
        dirt.save()

    assert "Muddy" in client.get(QUEUE_URL).content.decode()


def withdraw_buttons(page):
    return re.findall(r'data-withdraw="(\d+)"', page)


def test_withdraw_shown_only_to_order_author(caching, dirty_photo):
    author, author_client = logged_in("mina")
    _, colleague_client = logged_in("jun")
    order, _ = dispatch_order(dirty_photo.car, "wash", author, photos=[dirty_photo])

    # The colleague's request builds the shared page; the author's is served from it.
    colleague_page = colleague_client.get(QUEUE_URL).content.decode()
    with CaptureQueriesContext(connection) as hit:
        author_page = author_client.get(QUEUE_URL).content.decode()

    assert not reads_predictions(hit)
    assert f'data-order="{order.pk}"' in colleague_page
    assert withdraw_buttons(colleague_page) == []
    assert withdraw_buttons(author_page) == [str(order.pk)]


def test_shared_page_forms_carry_reader_token(caching, dirty_photo):
    _, builder = logged_in("jun")
    builder.get(QUEUE_URL)
    _, reader = logged_in("mina", enforce_csrf_checks=True)

    page = reader.get(QUEUE_URL).content.decode()
    token = re.search(rf'action="/queue/photos/{dirty_photo.pk}/review/".*?name="csrfmiddlewaretoken" value="(\w+)"', page, re.S)

    assert "sofar-csrf" not in page
    assert "sofar-orders" not in page
    response = reader.post(reverse("inspection:review", args=[dirty_photo.pk]), {"action": "confirm", "csrfmiddlewaretoken": token.group(1)})
    assert response.status_code == 302


@pytest.fixture
def api():
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user_in_role("mina", INSPECTOR))
    return client


def test_photo_list_shows_new_upload(caching, api, dirty_photo, committed):
    def ids():
        return [photo["id"] for photo in api.get("/api/v1/photos/", {"day": DAY.isoformat()}).json()["results"]]

    assert ids() == [dirty_photo.pk]
    with CaptureQueriesContext(connection) as hit:
        assert ids() == [dirty_photo.pk]
    with committed():
        new = make_photo(day=DAY, plate="77가7777")

    assert not any("inspection_photo" in query["sql"] for query in hit.captured_queries)
    assert sorted(ids()) == sorted([dirty_photo.pk, new.pk])


def test_prediction_list_shows_a_new_version_at_once(caching, api, dirty_photo, committed):
    def versions():
        return [row["model_version"] for row in api.get("/api/v1/predictions/", {"day": DAY.isoformat()}).json()["results"]]

    assert versions() == ["v1"]
    with committed():
        newer = make_version(name="v2")
        record_predictions(newer, {dirty_photo.pk: np.linspace(0, 5, len(newer.label_codes), dtype=np.float32)})

    assert sorted(versions()) == ["v1", "v2"]


def test_queue_api_shows_a_review_at_once(caching, api, dirty_photo, committed):
    def review_of_first_photo():
        return api.get("/api/v1/queue/", {"date": DAY.isoformat()}).json()["groups"][0]["items"][0]["review"]

    assert review_of_first_photo() is None
    with committed():
        submit_review(dirty_photo, user_in_role("jun", INSPECTOR), "confirm")

    assert review_of_first_photo()["action"] == "confirm"


def test_invalid_filter_is_refused_every_time(caching, api):
    first = api.get("/api/v1/photos/", {"day": "2026-13-40"})
    second = api.get("/api/v1/photos/", {"day": "2026-13-40"})

    assert first.status_code == second.status_code == 400


@pytest.fixture
def redis_cache(settings):
    """Point the cache at the Redis test server under a prefix of its own, and delete its keys afterwards."""
    broker = settings.CELERY_BROKER_URL
    if not broker.startswith("redis://"):
        pytest.skip("the Redis pass runs this test (CELERY_BROKER_URL names a Redis server there)")
    prefix = uuid.uuid4().hex
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": broker, "KEY_PREFIX": prefix}}
    settings.SOFAR_SHARED_CACHE_SECONDS = 60
    yield
    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)


def test_redis_cache_serves_and_invalidates(redis_cache, dirty_photo, api, committed):
    """The production set-up: caching on with the Redis backend, on the Redis test pass."""

    def names():
        return [photo["original_name"] for photo in api.get("/api/v1/photos/", {"day": DAY.isoformat()}).json()["results"]]

    assert names() == ["front.jpg"]
    with CaptureQueriesContext(connection) as hit:
        names()
    dirty_photo.original_name = "rear.jpg"
    with committed():
        dirty_photo.save()

    assert not any("inspection_photo" in query["sql"] for query in hit.captured_queries)
    assert names() == ["rear.jpg"]
