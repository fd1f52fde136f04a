"""Writing a batch's predictions: one row per photo and model version, whatever the retries."""
import logging

from django.db import transaction
from django.db.models import F

from inference import ood
from inference.models import InferenceRunItem, Prediction, queue_probability
from inspection.models import Label, Photo
from inspection.shared_cache import invalidate_days

logger = logging.getLogger(__name__)


def record_predictions(version, logits_by_photo, run_id=None):
    """Store the top-2 labels and OOD verdict of each photo from its logits.

    `logits_by_photo` maps photo id to the logits in `version.label_codes` order. A photo
    that already has a prediction from this version keeps it, so a batch delivered twice
    writes nothing twice. Returns the number of new predictions.
    """
    if not logits_by_photo:
        return 0
    labels = Label.objects.in_bulk(version.label_codes, field_name="code")
    photo_ids = list(logits_by_photo)
    rows = ood.top2([logits_by_photo[photo_id] for photo_id in photo_ids])
    predictions = [
        Prediction(
            photo_id=photo_id,
            model_version=version,
            inference_run_id=run_id,
            top1_label=labels[version.label_codes[first]],
            top1_probability=first_probability,
            top2_label=labels[version.label_codes[second]],
            top2_probability=second_probability,
            max_logit=peak,
            is_ood=peak < version.ood_threshold,
            queue_probability=queue_probability(
                version.label_codes[first], first_probability, version.label_codes[second], second_probability
            ),
        )
        for photo_id, (first, first_probability, second, second_probability, peak) in zip(photo_ids, rows)
    ]
    with transaction.atomic():
        # Lock the photos in id order, so that a batch of another version holding some of
        # them waits, then reads these predictions when it moves the latest flag.
        uploaded_at = dict(Photo.objects.select_for_update().filter(id__in=photo_ids).order_by("id").values_list("id", "uploaded_at"))
        for prediction in predictions:
            # A photo deleted since it was queued has none, and its insert raises IntegrityError
            # as a missing photo always did.
            prediction.photo_uploaded_at = uploaded_at.get(prediction.photo_id)
        already = set(Prediction.objects.filter(model_version=version, photo_id__in=photo_ids).values_list("photo_id", flat=True))
        Prediction.objects.bulk_create(predictions, ignore_conflicts=True)
        Prediction.objects.mark_latest(photo_ids)
        Photo.objects.filter(id__in=photo_ids).update(status=Photo.Status.CLASSIFIED, failure_reason="")
        # A new prediction changes what "confirm" would record, so a client that read the
        # photo before it must read it again (the review is refused as stale).
        new_ids = [photo_id for photo_id in photo_ids if photo_id not in already]
        Photo.objects.filter(id__in=new_ids).update(revision=F("revision") + 1)
        if run_id is not None:
            InferenceRunItem.objects.filter(run_id=run_id, photo_id__in=photo_ids).update(
                status=InferenceRunItem.Status.CLASSIFIED
            )
        # Bulk inserts and updates send no model signals.
        invalidate_days(uploaded_at.values())
    return len(new_ids)


def record_failures(failures, run_id=None):
    """Mark photos that cannot be decoded, with the reason; they are not retried."""
    if not failures:
        return
    with transaction.atomic():
        for photo_id, reason in failures.items():
            Photo.objects.filter(id=photo_id).update(status=Photo.Status.FAILED, failure_reason=str(reason)[:500])
        invalidate_days(Photo.objects.filter(id__in=list(failures)).values_list("uploaded_at", flat=True))
        if run_id is not None:
            InferenceRunItem.objects.filter(run_id=run_id, photo_id__in=list(failures)).update(
                status=InferenceRunItem.Status.FAILED
            )
    logger.warning("%d photos could not be decoded: %s", len(failures), sorted(failures))
