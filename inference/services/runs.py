"""Daily inference runs: queue a day's photos in batches and keep the run's counts true."""
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from inference.models import InferenceRun, InferenceRunItem, ModelVersion, Prediction
from inference.services.days import photos_uploaded_on
from inspection.models import Photo

logger = logging.getLogger(__name__)


class NoActiveModel(RuntimeError):
    pass


def photos_to_classify(day, version):
    """Photos uploaded on `day` that `version` has not classified and that can be decoded."""
    already = Prediction.objects.filter(model_version=version).values("photo_id")
    queryset = photos_uploaded_on(Photo.objects.all(), day).exclude(id__in=already).exclude(status=Photo.Status.FAILED)
    return queryset.order_by("id")


def start_run(day, version=None, batch_size=None):
    """Create a run for `day` and queue its photos in batches once the transaction commits.

    Raises NoActiveModel when no version is given and none is active.
    """
    from inference.tasks import classify_batch

    version = version or ModelVersion.objects.active()
    if version is None:
        raise NoActiveModel("No model version is active; train one with `manage.py train --activate`.")
    batch_size = batch_size or settings.SOFAR_INFERENCE_BATCH_SIZE

    with transaction.atomic():
        photo_ids = list(photos_to_classify(day, version).values_list("id", flat=True))
        batches = [photo_ids[start : start + batch_size] for start in range(0, len(photo_ids), batch_size)]
        run = InferenceRun.objects.create(
            target_date=day, model_version=version, photo_count=len(photo_ids), batch_count=len(batches)
        )
        InferenceRunItem.objects.bulk_create(
            [InferenceRunItem(run=run, photo_id=photo_id) for photo_id in photo_ids], batch_size=2000
        )
        if not photo_ids:
            run.status = InferenceRun.Status.COMPLETED
            run.started_at = run.finished_at = timezone.now()
            run.save(update_fields=["status", "started_at", "finished_at"])
        for batch in batches:
            transaction.on_commit(lambda batch=batch: classify_batch.delay(run.id, batch))

    logger.info("run %s queued %d photos of %s in %d batches for %s", run.id, len(photo_ids), day, len(batches), version)
    return run


def mark_run_started(run_id):
    InferenceRun.objects.filter(id=run_id, started_at__isnull=True).update(
        started_at=timezone.now(), status=InferenceRun.Status.RUNNING
    )


def refresh_run(run_id):
    """Recount a run from its items and close it once no photo is left queued.

    The run row is locked first so that two workers finishing batches at once cannot
    overwrite each other's counts with stale ones.
    """
    with transaction.atomic():
        run = InferenceRun.objects.select_for_update().get(id=run_id)
        counts = run.items.aggregate(
            classified=Count("id", filter=Q(status=InferenceRunItem.Status.CLASSIFIED)),
            failed=Count("id", filter=Q(status=InferenceRunItem.Status.FAILED)),
            queued=Count("id", filter=Q(status=InferenceRunItem.Status.QUEUED)),
        )
        run.classified_count = counts["classified"]
        run.failed_count = counts["failed"]
        # Counted through the run's photos, not Prediction.inference_run: a photo queued by
        # two runs of one day has its prediction recorded against the first of them.
        run.ood_count = Prediction.objects.filter(
            model_version_id=run.model_version_id, is_ood=True, photo__run_items__run=run
        ).count()
        if counts["queued"] == 0 and not run.is_finished:
            run.status = InferenceRun.Status.COMPLETED
            run.finished_at = timezone.now()
            logger.info(
                "run %s completed: %d classified, %d OOD, %d failed",
                run.id, run.classified_count, run.ood_count, run.failed_count,
            )
        run.save()
    return run
