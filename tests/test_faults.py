"""Faults with real workers, brokers and databases: no photo of a day is lost or classified twice.

Each test injects one fault into a running inference run: a worker killed with SIGKILL,
Redis restarted, a batch delivered twice, tasks lost or a model version activated mid-run.
Then it checks that every photo ends with exactly one prediction of the run's version.
"""
import os
import signal
from collections import Counter
from datetime import date

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.db.models import Count
from django.utils import timezone

from audit.models import AuditEntry
from inference.models import InferenceRun, Prediction
from inference.services import runs, stalls
from inference.services.days import photos_uploaded_on
from inference.services.versions import activate_version
from inference.tasks import classify_batch
from inspection.models import Photo
from inspection.services.photos import Upload, store_photo
from tests.conftest import purge_broker
from tests.factories import noon
from tests.fault_tools import RedisServer, WorkerProcess, scene_bytes, train_tiny_model, wait_until
from tests.reliability import record_fault

DAY = date(2026, 11, 21)
REDIS_PORT = 8501
BATCHES = 8
BATCH_SIZE = 4
RUN_TIMEOUT = 180

uses_redis = pytest.mark.skipif(
    not django_settings.CELERY_BROKER_URL.startswith("redis://"),
    reason="restarts a Redis broker; this pass uses the filesystem broker",
)


@pytest.fixture
def workers(transactional_db, tmp_path):
    """Start workers on demand; stop whatever is left of them at the end."""
    started = []

    def start(name="worker", **options):
        worker = WorkerProcess(tmp_path / f"{name}-{len(started)}.log", name=name, **options)
        started.append(worker)
        return worker

    purge_broker()
    yield start
    for worker in started:
        worker.stop()
    purge_broker()


def day_photos(count, size=(320, 240)):
    """Store `count` generated photos of DAY; big enough that a batch takes a moment to classify."""
    return [
        store_photo(Upload(data=scene_bytes(seed, dirty=seed % 2 == 1, size=size), uploaded_at=noon(DAY)))[0]
        for seed in range(count)
    ]


def outcome(version):
    """Return (photos, classified exactly once, lost, classified twice) of DAY's photos by `version`."""
    photo_ids = list(photos_uploaded_on(Photo.objects.all(), DAY).values_list("id", flat=True))
    counts = Counter(
        dict(
            Prediction.objects.filter(photo_id__in=photo_ids, model_version=version)
            .values_list("photo_id")
            .annotate(n=Count("id"))
        )
    )
    once = sum(1 for photo_id in photo_ids if counts[photo_id] == 1)
    lost = sum(1 for photo_id in photo_ids if counts[photo_id] == 0)
    twice = sum(1 for photo_id in photo_ids if counts[photo_id] > 1)
    return len(photo_ids), once, lost, twice


def finish_run(run, settings, timeout=RUN_TIMEOUT):
    """Act as beat would, with a 2-second stall window, until the run finishes; return the run."""
    settings.SOFAR_RUN_STALL_SECONDS = 2

    def finished():
        stalls.requeue_stalled_runs()
        return InferenceRun.objects.get(id=run.id).is_finished

    wait_until(finished, timeout, f"run {run.id} did not finish", interval=0.5)
    run.refresh_from_db()
    return run


def freeze_after_progress(worker, run, classified):
    """Stop the worker (SIGSTOP) once `classified` photos of the run are classified."""
    wait_until(
        lambda: InferenceRun.objects.get(id=run.id).classified_count >= classified,
        RUN_TIMEOUT,
        f"the worker classified nothing; log:\n{worker.log()}",
        interval=0.02,
    )
    os.killpg(worker.process.pid, signal.SIGSTOP)
    return run.items.filter(status="queued").count()


def assert_every_photo_classified_once(run, version, fault):
    photos, once, lost, twice = outcome(version)
    record_fault(fault, photos, once, lost, twice)
    assert (lost, twice) == (0, 0), f"{lost} photos lost, {twice} classified twice"
    assert once == photos == run.photo_count
    assert run.status == InferenceRun.Status.COMPLETED
    assert (run.classified_count, run.failed_count) == (photos, 0)


@pytest.mark.worker
def test_worker_killed_mid_batch_loses_no_photo(workers, settings):
    version = train_tiny_model()
    day_photos(BATCHES * BATCH_SIZE)
    run = runs.start_run(DAY, batch_size=BATCH_SIZE)
    first = workers("doomed")

    queued_at_kill = freeze_after_progress(first, run, BATCH_SIZE)
    first.kill()
    assert queued_at_kill > 0, "the worker finished the run before it could be killed; make the run longer"
    second = workers("successor")
    run = finish_run(run, settings)

    assert_every_photo_classified_once(run, version, "worker killed with SIGKILL mid-run")
    assert second.is_alive()


@uses_redis
@pytest.mark.worker
def test_redis_restart_during_run_completes_it(workers, settings, tmp_path, monkeypatch):
    monkeypatch.setenv("CELERY_BROKER_URL", django_settings.CELERY_BROKER_URL)
    from sofar_site.celery import app

    redis_server = RedisServer(REDIS_PORT, tmp_path)
    use_broker(app, redis_server.url)
    try:
        version = train_tiny_model()
        day_photos(BATCHES * BATCH_SIZE)
        run = runs.start_run(DAY, batch_size=BATCH_SIZE)
        worker = workers("redis", broker_url=redis_server.url)

        queued_at_restart = freeze_after_progress(worker, run, BATCH_SIZE)
        redis_server.stop()
        os.killpg(worker.process.pid, signal.SIGCONT)
        redis_server.start()
        run = finish_run(run, settings)

        assert queued_at_restart > 0, "the run finished before Redis could be restarted; make the run longer"
        assert_every_photo_classified_once(run, version, "Redis restarted mid-run, queued tasks lost")
        assert worker.is_alive(), "the worker did not survive the broker restart"
    finally:
        use_broker(app, django_settings.CELERY_BROKER_URL)
        redis_server.stop()


def use_broker(app, url):
    """Point this process's Celery producer at `url`, dropping connections to the old broker."""
    # Celery reads CELERY_BROKER_URL from the environment before its configuration.
    os.environ["CELERY_BROKER_URL"] = url
    app.conf.broker_url = url
    # kombu keeps one pool per broker URL; dropping the app's references is enough for
    # the next task to open a connection to the new URL.
    app._pool = None
    app.amqp._producer_pool = None


@pytest.mark.worker
def test_batch_delivered_twice_writes_no_duplicates(workers, settings):
    version = train_tiny_model()
    day_photos(4 * BATCH_SIZE, size=(64, 48))
    run = runs.start_run(DAY, batch_size=BATCH_SIZE)
    photo_ids = list(run.items.order_by("photo_id").values_list("photo_id", flat=True))
    for start in range(0, len(photo_ids), BATCH_SIZE):
        classify_batch.delay(run.id, photo_ids[start : start + BATCH_SIZE])

    worker = workers("twice", concurrency=2)
    wait_until(lambda: worker.log().count("succeeded") >= 8, RUN_TIMEOUT, f"not every delivery ran; log:\n{worker.log()}")
    run.refresh_from_db()

    assert_every_photo_classified_once(run, version, "every batch delivered twice")
    assert run.items.count() == len(photo_ids)


@pytest.mark.worker
def test_stalled_run_is_requeued_and_says_so(workers, settings):
    version = train_tiny_model()
    day_photos(2 * BATCH_SIZE, size=(64, 48))
    run = runs.start_run(DAY, batch_size=BATCH_SIZE)
    purge_broker()

    settings.SOFAR_RUN_STALL_SECONDS = 3600
    assert stalls.requeue_stalled_runs() == []
    settings.SOFAR_RUN_STALL_SECONDS = 0
    assert stalls.requeue_stalled_runs() == [run.id]
    assert stalls.requeue_stalled_runs() == [], "photos queued again while their tasks wait in the broker"
    run.refresh_from_db()
    assert run.status == InferenceRun.Status.STALLED
    assert (run.stall_count, run.requeued_count) == (1, 2 * BATCH_SIZE)

    workers("after-stall")
    wait_until(lambda: InferenceRun.objects.get(id=run.id).is_finished, RUN_TIMEOUT, "the re-queued photos were not classified")
    run.refresh_from_db()

    assert_every_photo_classified_once(run, version, "tasks of a run lost")
    assert (run.stall_count, run.requeued_count) == (1, 2 * BATCH_SIZE)


@pytest.mark.worker
def test_activation_mid_run_keeps_one_version_per_photo(workers, settings):
    first_version = train_tiny_model()
    second_version = train_tiny_model()
    first_version.activate()
    admin = User.objects.create_user("labeling-admin")
    day_photos(BATCHES * BATCH_SIZE)
    run = runs.start_run(DAY, batch_size=BATCH_SIZE)
    worker = workers("activation")

    freeze_after_progress(worker, run, BATCH_SIZE)
    activate_version(second_version, admin)
    os.killpg(worker.process.pid, signal.SIGCONT)
    run = finish_run(run, settings)

    assert_every_photo_classified_once(run, first_version, "model version activated mid-run")
    assert not Prediction.objects.filter(model_version=second_version).exists()
    assert set(run.predictions.values_list("model_version", flat=True)) == {first_version.id}
    entry = AuditEntry.objects.get(action="model_version.activate", actor=admin)
    assert (entry.actor, entry.before, entry.after) == (
        admin,
        {"active_version": first_version.name},
        {"active_version": second_version.name},
    )
    assert runs.start_run(DAY).model_version == second_version


@pytest.mark.django_db
def test_run_with_waiting_tasks_is_not_stalled(settings, django_capture_on_commit_callbacks):
    from tests.factories import make_photo, make_version

    purge_broker()
    make_version()
    make_photo(DAY, seed=1)
    with django_capture_on_commit_callbacks(execute=True):
        run = runs.start_run(DAY)
    settings.SOFAR_RUN_STALL_SECONDS = 0
    try:
        assert stalls.waiting_classify_tasks() == 1
        assert stalls.requeue_stalled_runs() == []
        run.refresh_from_db()
        assert run.status == InferenceRun.Status.QUEUED
    finally:
        purge_broker()


@pytest.mark.django_db
def test_run_stalling_too_often_fails_and_counts_photos(settings):
    from tests.factories import make_photo, make_version

    purge_broker()
    make_version()
    photos = [make_photo(DAY, seed=seed) for seed in range(3)]
    run = runs.start_run(DAY)
    settings.SOFAR_RUN_STALL_SECONDS = 0
    settings.SOFAR_RUN_MAX_STALLS = 1

    # Tasks queued on commit never leave this test's transaction: every check finds them lost.
    assert stalls.requeue_stalled_runs() == [run.id]
    assert stalls.requeue_stalled_runs() == [run.id]

    run.refresh_from_db()
    assert run.status == InferenceRun.Status.FAILED
    assert (run.stall_count, run.failed_count, run.classified_count) == (1, 3, 0)
    assert run.finished_at is not None
    assert set(Photo.objects.filter(id__in=[p.id for p in photos]).values_list("status", flat=True)) == {Photo.Status.PENDING}


@pytest.mark.django_db
def test_progressing_run_is_not_stalled(settings):
    from tests.factories import make_photo, make_version

    purge_broker()
    make_version()
    make_photo(DAY, seed=1)
    run = runs.start_run(DAY)
    settings.SOFAR_RUN_STALL_SECONDS = 60
    InferenceRun.objects.filter(id=run.id).update(updated_at=timezone.now() - timezone.timedelta(seconds=30))

    assert stalls.requeue_stalled_runs() == []
    run.refresh_from_db()
    assert (run.status, run.stall_count) == (InferenceRun.Status.QUEUED, 0)


def test_beat_checks_for_stalled_runs():
    from sofar_site.celery import app

    entry = django_settings.CELERY_BEAT_SCHEDULE["requeue-stalled-runs"]
    assert entry["task"] in app.tasks
    assert entry["schedule"] < django_settings.SOFAR_RUN_STALL_SECONDS
