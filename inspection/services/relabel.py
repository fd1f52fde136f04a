"""The labeling admin's relabel screen: photos beside their prediction and their current label."""
import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import BooleanField, Exists, ExpressionWrapper, F, OuterRef, Q, Subquery
from django.utils import timezone

from audit.services import record
from inference.models import Prediction
from inspection.models import Label, Photo, TrainingLabel
from inspection.services.reviews import label_state

logger = logging.getLogger(__name__)

TrainingLabelLabels = TrainingLabel.labels.through


@dataclass(frozen=True)
class RelabelFilters:
    current_label: str = ""
    predicted_label: str = ""
    disagreements_only: bool = False
    min_confidence: float | None = None
    max_confidence: float | None = None


def relabel_candidates(filters=RelabelFilters()):
    """Return photos annotated with their newest prediction and current training label.

    Photos where the current label does not contain the predicted top-1 label come first:
    they are the likeliest wrong labels, or the model's likeliest mistakes.
    """
    newest_prediction = Prediction.objects.filter(photo=OuterRef("pk")).order_by("-created_at", "-id")
    current_label = TrainingLabel.objects.filter(photo=OuterRef("pk"), withdrawn_at__isnull=True).order_by("-created_at", "-id")
    photos = Photo.objects.annotate(
        predicted_label_id=Subquery(newest_prediction.values("top1_label_id")[:1]),
        predicted_probability=Subquery(newest_prediction.values("top1_probability")[:1]),
        current_label_id=Subquery(current_label.values("id")[:1]),
    ).filter(predicted_label_id__isnull=False)
    photos = photos.annotate(
        agrees=Exists(
            TrainingLabelLabels.objects.filter(
                traininglabel_id=OuterRef("current_label_id"), label_id=OuterRef("predicted_label_id")
            )
        ),
    )

    if filters.current_label:
        photos = photos.filter(
            Exists(
                TrainingLabelLabels.objects.filter(
                    traininglabel_id=OuterRef("current_label_id"), label__code=filters.current_label
                )
            )
        )
    if filters.predicted_label:
        photos = photos.filter(predicted_label_id__in=Label.objects.filter(code=filters.predicted_label).values("id"))
    if filters.disagreements_only:
        photos = photos.filter(current_label_id__isnull=False, agrees=False)
    if filters.min_confidence is not None:
        photos = photos.filter(predicted_probability__gte=filters.min_confidence)
    if filters.max_confidence is not None:
        photos = photos.filter(predicted_probability__lte=filters.max_confidence)

    # A photo without any label has nothing to disagree with, so it sorts after the disagreements.
    disagreement_first = Q(current_label_id__isnull=False, agrees=False)
    return photos.annotate(disagrees=ExpressionWrapper(disagreement_first, output_field=BooleanField())).order_by(
        F("disagrees").desc(), "predicted_probability", "-id"
    )


def attach_labels(photos):
    """Load the predicted label and the current training label of each photo in two queries."""
    labels = Label.objects.in_bulk({photo.predicted_label_id for photo in photos})
    training_labels = TrainingLabel.objects.prefetch_related("labels").in_bulk(
        [photo.current_label_id for photo in photos if photo.current_label_id]
    )
    for photo in photos:
        photo.predicted_label = labels.get(photo.predicted_label_id)
        photo.current_label = training_labels.get(photo.current_label_id)
    return photos


def relabel_photos(photos, labels, user, is_irrelevant=False):
    """Give each photo a new training label (source admin) that supersedes its current one.

    Returns the number of photos relabelled. Each photo's revision is incremented, so an
    inspector acting on the old label gets a stale-revision error. Each photo gets an audit
    entry with its label before and after.
    """
    labels = [] if is_irrelevant else list(labels)
    photo_ids = [photo.pk for photo in photos]
    now = timezone.now()
    with transaction.atomic():
        locked = list(Photo.objects.select_for_update().filter(pk__in=photo_ids).order_by("pk"))
        previous_labels = {
            training_label.photo_id: training_label
            for training_label in TrainingLabel.objects.current().filter(photo_id__in=photo_ids).prefetch_related("labels")
        }
        for photo in locked:
            training_label = TrainingLabel.objects.create(
                photo=photo, source=TrainingLabel.Source.ADMIN, author=user, is_irrelevant=is_irrelevant, created_at=now
            )
            training_label.labels.set(labels)
            record(
                user, "photo.relabel", photo,
                before={**label_state(previous_labels.get(photo.pk)), "revision": photo.revision},
                after={**label_state(training_label, labels), "revision": photo.revision + 1},
            )
        Photo.objects.filter(pk__in=photo_ids).update(revision=F("revision") + 1)
    logger.info(
        "user %s relabelled %d photos as %s",
        user.pk, len(locked), "irrelevant" if is_irrelevant else [label.code for label in labels],
    )
    return len(locked)


def training_label_count():
    """Count the photos whose current label training would use: labelled and not irrelevant."""
    return TrainingLabel.objects.current().filter(is_irrelevant=False).count()
