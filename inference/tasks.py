"""Celery tasks. Torch is imported inside the task bodies, so queuing a task from the web
process never loads it."""
import logging
import time

from celery import shared_task
from django.db import OperationalError
from django.utils.dateparse import parse_date

from inference.models import InferenceRun, ModelVersion
from inference.services import runs
from inference.services.days import yesterday

logger = logging.getLogger(__name__)


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=600,
    time_limit=660,
)
def classify_batch(run_id, photo_ids, model_version_id=None):
    """Classify one batch of a run (or, without a run, with the given or active version).

    Idempotent: a batch delivered again after a worker died writes each prediction once.
    A database error is retried; an undecodable photo is a permanent failure of that photo.
    """
    from inference.ml.batch import classify_photos

    started = time.monotonic()
    if run_id is not None:
        run = InferenceRun.objects.select_related("model_version").get(id=run_id)
        version = run.model_version
        runs.mark_run_started(run_id)
    else:
        version = ModelVersion.objects.get(id=model_version_id) if model_version_id else ModelVersion.objects.active()
    created, failed = classify_photos(photo_ids, version, run_id)
    if run_id is not None:
        runs.refresh_run(run_id)
    logger.info(
        "classified %d photos (%d new, %d failed) of run %s with %s in %.1f s",
        len(photo_ids), created, failed, run_id, version.name, time.monotonic() - started,
    )
    return created


@shared_task
def start_daily_run(day=None):
    """Queue the photos of `day` (ISO date, default yesterday) for the active version."""
    target = parse_date(day) if day else yesterday()
    try:
        run = runs.start_run(target)
    except runs.NoActiveModel as error:
        logger.error("daily run of %s not started: %s", target, error)
        return None
    return run.id
