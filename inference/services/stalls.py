"""Finding inference runs whose tasks were lost, and queuing their missing photos again.

A batch's task can vanish without a trace: the filesystem broker deletes a message once a
worker takes it, so a worker killed with SIGKILL loses its batch; Redis keeps the
unacknowledged message but gives it back only after the visibility timeout (hours); a
broker restarted without persistence loses every waiting task. Such a run would wait
forever. A run counts as stalled when all of these hold:

- it is not finished and some of its photos are still queued,
- it made no progress for SOFAR_RUN_STALL_SECONDS (longer than a batch's time limit,
  so a batch still running is never taken for lost),
- no classify task waits in the broker (a waiting task means a slow or absent worker,
  not a lost task; queuing the photos again would only do the work twice).

Queuing a photo twice is harmless, because predictions are unique per photo and version.
NOTE: a message a worker has prefetched but not started is in neither count, so a run
whose batches sit behind long batches of other runs can be taken for stalled; the cost
is classifying those photos twice, never a duplicate row.
"""
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import ChannelError

from inference.models import InferenceRun, InferenceRunItem
from inference.services import runs

logger = logging.getLogger(__name__)

UNFINISHED = [InferenceRun.Status.QUEUED, InferenceRun.Status.RUNNING, InferenceRun.Status.STALLED]


def waiting_classify_tasks():
    """Return the number of classify tasks waiting in the broker's inference queue."""
    from sofar_site.celery import app

    queue = settings.CELERY_TASK_ROUTES["inference.tasks.classify_batch"]["queue"]
    with app.connection_for_write() as connection:
        try:
            return connection.default_channel.queue_declare(queue=queue, passive=True).message_count
        except ChannelError:
            # Redis deletes an empty queue's key, and a passive declare then reports it missing.
            return 0


def requeue_stalled_runs():
    """Queue the missing photos of every stalled run again; return the ids of those runs.

    A run that stalled SOFAR_RUN_MAX_STALLS times already is failed instead, with its
    missing photos counted as failed, so that a photo that kills every worker it reaches
    cannot keep a run open forever.
    """
    waiting = waiting_classify_tasks()
    if waiting:
        logger.info("no run checked for stalls: %d classify tasks are waiting in the broker", waiting)
        return []
    cutoff = timezone.now() - timezone.timedelta(seconds=settings.SOFAR_RUN_STALL_SECONDS)
    candidates = InferenceRun.objects.filter(
        status__in=UNFINISHED, updated_at__lt=cutoff, items__status=InferenceRunItem.Status.QUEUED
    ).distinct()
    return [run_id for run_id in candidates.values_list("id", flat=True) if _handle_stalled_run(run_id, cutoff)]


def _handle_stalled_run(run_id, cutoff):
    """Queue the missing photos of run `run_id` again, or fail the run; return whether it stalled.

    The run row is locked and checked again, because a batch may have finished, or another
    check may have handled the run, since the candidates were listed.
    """
    from inference.tasks import classify_batch

    with transaction.atomic():
        run = InferenceRun.objects.select_for_update().filter(id=run_id, status__in=UNFINISHED, updated_at__lt=cutoff).first()
        if run is None:
            return False
        missing = list(
            run.items.filter(status=InferenceRunItem.Status.QUEUED).order_by("photo_id").values_list("photo_id", flat=True)
        )
        if not missing:
            return False
        if run.stall_count >= settings.SOFAR_RUN_MAX_STALLS:
            _fail_run(run, missing)
            return True

        run.status = InferenceRun.Status.STALLED
        run.stall_count += 1
        run.requeued_count += len(missing)
        run.stalled_at = timezone.now()
        run.save(update_fields=["status", "stall_count", "requeued_count", "stalled_at", "updated_at"])
        size = settings.SOFAR_INFERENCE_BATCH_SIZE
        for start in range(0, len(missing), size):
            batch = missing[start : start + size]
            transaction.on_commit(lambda batch=batch: classify_batch.delay(run.id, batch))
    logger.warning(
        "run %s stalled (stall %d of at most %d): queued its %d missing photos again",
        run.id, run.stall_count, settings.SOFAR_RUN_MAX_STALLS, len(missing),
    )
    return True


def _fail_run(run, missing):
    run.items.filter(photo_id__in=missing).update(status=InferenceRunItem.Status.FAILED)
    run.status = InferenceRun.Status.FAILED
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at", "updated_at"])
    runs.refresh_run(run.id)
    logger.error(
        "run %s failed after %d stalls: %d photos were not classified and stay pending, so a new run of the day takes them",
        run.id, run.stall_count, len(missing),
    )


def mark_run_resumed(run_id):
    """Set a stalled run back to running once a worker takes one of its batches."""
    InferenceRun.objects.filter(id=run_id, status=InferenceRun.Status.STALLED).update(status=InferenceRun.Status.RUNNING)
