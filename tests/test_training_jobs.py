"""Training requests: one at a time, and a job whose worker died stops blocking new ones."""
from datetime import timedelta

import pytest
from django.utils import timezone

from inference.models import TrainingJob
from inference.services.training import STALE_AFTER, TrainingInProgress, expire_stale_jobs, request_training

pytestmark = pytest.mark.django_db


def test_second_request_while_one_runs_is_refused(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        first = request_training()

    with pytest.raises(TrainingInProgress) as error:
        request_training()

    assert error.value.job == first
    assert TrainingJob.objects.count() == 1


def test_job_of_a_dead_worker_is_failed_and_unblocks(django_capture_on_commit_callbacks):
    long_ago = timezone.now() - STALE_AFTER - timedelta(minutes=1)
    dead = TrainingJob.objects.create(status=TrainingJob.Status.RUNNING, created_at=long_ago, started_at=long_ago)

    with django_capture_on_commit_callbacks() as callbacks:
        job = request_training()

    dead.refresh_from_db()
    assert dead.status == TrainingJob.Status.FAILED
    assert "worker stopped" in dead.error
    assert job.status == TrainingJob.Status.QUEUED
    assert len(callbacks) == 1


def test_recent_running_job_is_not_expired():
    job = TrainingJob.objects.create(status=TrainingJob.Status.RUNNING, started_at=timezone.now())

    assert expire_stale_jobs() == 0
    job.refresh_from_db()
    assert job.status == TrainingJob.Status.RUNNING
