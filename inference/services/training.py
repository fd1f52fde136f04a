"""Requesting a training run from the screens; the `training` queue executes it."""
import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from inference.models import TrainingJob

logger = logging.getLogger(__name__)

# A job still queued or running this long after it started cannot be alive: the task's hard
# time limit (3 h + 60 s) would have ended it. Its worker died without recording the end.
STALE_AFTER = timedelta(hours=3, minutes=10)
STALE_ERROR = "The worker stopped without finishing this job (killed, out of memory or restarted)."


class TrainingInProgress(RuntimeError):
    def __init__(self, job):
        super().__init__(f"training job {job.pk} is still {job.status}")
        self.job = job


def expire_stale_jobs(now=None):
    """Mark failed the jobs whose worker died, so they no longer block new requests."""
    cutoff = (now or timezone.now()) - STALE_AFTER
    stale = TrainingJob.objects.filter(
        Q(status=TrainingJob.Status.QUEUED, created_at__lt=cutoff)
        | Q(status=TrainingJob.Status.RUNNING, started_at__lt=cutoff)
    )
    count = stale.update(status=TrainingJob.Status.FAILED, error=STALE_ERROR, finished_at=timezone.now())
    if count:
        logger.warning("marked %d training jobs failed: no progress for %s", count, STALE_AFTER)
    return count


def request_training(user=None, activate=False, config=None):
    """Create a queued training job and send it to the `training` queue after commit.

    Raises TrainingInProgress while another job is queued or running: two trainings at
    once would compete for the same cores and activate versions in a surprising order.
    """
    from inference.tasks import train_model

    with transaction.atomic():
        expire_stale_jobs()
        active = (
            TrainingJob.objects.select_for_update()
            .filter(status__in=[TrainingJob.Status.QUEUED, TrainingJob.Status.RUNNING])
            .first()
        )
        if active:
            raise TrainingInProgress(active)
        job = TrainingJob.objects.create(requested_by=user, activate=activate, config=config or {})
        transaction.on_commit(lambda: train_model.delay(job.id))
    return job
