"""Celery tasks. Torch is imported inside the task bodies, so queuing a task from the web
process never loads it."""
import logging
import time

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone
from django.utils.dateparse import parse_date

from inference.models import InferenceRun, ModelVersion, TrainingJob
from inference.services import runs, stalls
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
        stalls.mark_run_resumed(run_id)
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


@shared_task(soft_time_limit=120, time_limit=150)
def requeue_stalled_runs():
    """Queue again the missing photos of runs whose tasks were lost (run by beat)."""
    return stalls.requeue_stalled_runs()


@shared_task(acks_late=True, reject_on_worker_lost=False, soft_time_limit=3 * 3600, time_limit=3 * 3600 + 60)
def train_model(job_id):
    """Run a training job and record its progress on the job row, for the page that polls it.

    Not re-delivered when the worker dies: a half-run training is marked failed by hand or
    by the next request, never repeated silently.
    """
    from inference.ml.training import TrainingConfig, train_model_version

    job = TrainingJob.objects.get(id=job_id)
    if job.status != TrainingJob.Status.QUEUED:
        logger.warning("training job %s is %s, not queued; skipped", job_id, job.status)
        return None
    TrainingJob.objects.filter(id=job_id).update(status=TrainingJob.Status.RUNNING, started_at=timezone.now())

    def progress(stage, done, total):
        TrainingJob.objects.filter(id=job_id).update(stage=stage, progress_done=done, progress_total=total)

    try:
        version = train_model_version(
            TrainingConfig(**job.config), progress=progress, activate=job.activate, user=job.requested_by
        )
    except Exception as error:
        logger.exception("training job %s failed", job_id)
        TrainingJob.objects.filter(id=job_id).update(
            status=TrainingJob.Status.FAILED, error=str(error)[:2000], finished_at=timezone.now()
        )
        return None
    TrainingJob.objects.filter(id=job_id).update(
        status=TrainingJob.Status.COMPLETED, model_version=version, finished_at=timezone.now()
    )
    return version.id
