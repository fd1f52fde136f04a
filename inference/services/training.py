"""Requesting a training run from the screens or the API; the `training` queue executes it."""
from django.db import transaction

from inference.models import TrainingJob


def request_training(user=None, activate=False, config=None):
    """Create a queued training job and send it to the `training` queue after commit."""
    from inference.tasks import train_model

    with transaction.atomic():
        job = TrainingJob.objects.create(requested_by=user, activate=activate, config=config or {})
        transaction.on_commit(lambda: train_model.delay(job.id))
    return job
