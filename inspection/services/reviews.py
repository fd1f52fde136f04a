"""Inspector reviews: each verdict on a photo's prediction becomes the photo's newest training label.

Confirming a prediction takes its top-1 label, plus its top-2 label when both call for an
action (wash or repair): a photo can be dirty and damaged at once, and the queue shows it for
both. Any other top-2 label is the model's second guess and is not confirmed with it.
"""
import logging

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record
from inference.models import Prediction
from inspection.models import Label, Photo, Review, TrainingLabel
from inspection.services.labels import current_training_label

logger = logging.getLogger(__name__)


class InvalidReview(ValueError):
    """The review cannot be saved as requested; the message is translated for the user."""


class StaleRevision(InvalidReview):
    """The photo changed since the client loaded it, so the client acted on old information."""

    def __init__(self, photo_id, expected, current):
        super().__init__(
            _("Someone else changed this photo meanwhile (revision %(current)s, not %(expected)s); reload it and review again.")
            % {"current": current, "expected": expected}
        )
        self.photo_id = photo_id
        self.expected = expected
        self.current = current


def label_state(training_label, labels=None):
    """Describe a photo's training label for the audit log; `labels` saves a query when known."""
    if training_label is None:
        return {"training_label": None}
    labels = training_label.labels.all() if labels is None else labels
    return {
        "training_label": training_label.pk,
        "labels": sorted(label.code for label in labels),
        "is_irrelevant": training_label.is_irrelevant,
        "source": training_label.source,
    }


def newest_prediction(photo):
    return (
        Prediction.objects.filter(photo=photo)
        .select_related("top1_label", "top2_label")
        .order_by("-created_at", "-id")
        .first()
    )


def confirmed_labels(prediction):
    """Return the labels that confirming `prediction` records (see the module docstring)."""
    labels = [prediction.top1_label]
    if prediction.top1_label.action != Label.Action.NONE and prediction.top2_label.action != Label.Action.NONE:
        labels.append(prediction.top2_label)
    return labels


def _labels_for(action, labels, prediction):
    if action == Review.Action.CONFIRM:
        if prediction is None:
            raise InvalidReview(_("This photo has no prediction to confirm yet."))
        return confirmed_labels(prediction)
    if action == Review.Action.CORRECT:
        labels = list(labels)
        if not labels:
            raise InvalidReview(_("Choose at least one label to correct the prediction."))
        inactive = [label.code for label in labels if not label.is_active]
        if inactive:
            raise InvalidReview(_("These labels are no longer in use: %(codes)s.") % {"codes": ", ".join(inactive)})
        return labels
    if action == Review.Action.IRRELEVANT:
        return []
    raise InvalidReview(_("Unknown review action %(action)s.") % {"action": action})


def submit_review(photo, author, action, labels=(), expected_revision=None):
    """Record an inspector's verdict on `photo` and return the review.

    1. Lock the photo row, so two inspectors reviewing the same photo are serialized.
    2. Refuse the review when `expected_revision` is given and the photo has moved on.
    3. Store the review and a training label (source inspector) that supersedes earlier ones.
    4. Increment the photo's revision and record the label before and after in the audit log.

    Raises StaleRevision or InvalidReview, with nothing stored.
    """
    with transaction.atomic():
        locked = Photo.objects.select_for_update().get(pk=photo.pk)
        if expected_revision is not None and int(expected_revision) != locked.revision:
            raise StaleRevision(locked.pk, expected_revision, locked.revision)

        prediction = newest_prediction(locked)
        chosen = _labels_for(action, labels, prediction)
        previous_label = current_training_label(locked)
        now = timezone.now()
        training_label = TrainingLabel.objects.create(
            photo=locked,
            source=TrainingLabel.Source.INSPECTOR,
            author=author,
            is_irrelevant=action == Review.Action.IRRELEVANT,
            created_at=now,
        )
        training_label.labels.set(chosen)
        review = Review.objects.create(
            photo=locked,
            prediction=prediction,
            action=action,
            training_label=training_label,
            author=author,
            created_at=now,
        )
        review.labels.set(chosen)

        Photo.objects.filter(pk=locked.pk).update(revision=F("revision") + 1)
        record(
            author, "photo.review", locked,
            before={**label_state(previous_label), "revision": locked.revision},
            after={**label_state(training_label, chosen), "review": review.pk, "action": action, "revision": locked.revision + 1},
        )
    photo.revision = locked.revision + 1
    logger.info(
        "review %s of photo %s by user %s: %s %s",
        review.pk, photo.pk, author.pk, action, [label.code for label in chosen],
    )
    return review


def undo_review(review, user):
    """Withdraw `review` and its training label; the photo's previous label counts again.

    Only the author or a superuser may undo a review. Raises PermissionDenied for anyone
    else and InvalidReview when the review was already withdrawn.
    """
    if review.author_id != user.pk and not user.is_superuser:
        raise PermissionDenied(_("Only the inspector who made a review can undo it."))

    with transaction.atomic():
        # Lock the photo before the review, in the order submit_review locks, so an undo and
        # a new review of the same photo cannot deadlock.
        photo = Photo.objects.select_for_update().get(pk=review.photo_id)
        locked = Review.objects.select_for_update().get(pk=review.pk)
        if locked.withdrawn_at is not None:
            raise InvalidReview(_("This review was already undone."))
        label_before = current_training_label(photo)
        now = timezone.now()
        locked.withdrawn_at = now
        locked.save(update_fields=["withdrawn_at"])
        if locked.training_label_id:
            # Training reads only labels without withdrawn_at, so the model never learns from this one.
            TrainingLabel.objects.filter(pk=locked.training_label_id).update(withdrawn_at=now)
        Photo.objects.filter(pk=photo.pk).update(revision=F("revision") + 1)
        record(
            user, "photo.undo_review", photo,
            before={**label_state(label_before), "review": locked.pk, "revision": photo.revision},
            after={**label_state(current_training_label(photo)), "revision": photo.revision + 1},
        )
    review.withdrawn_at = now
    logger.info("review %s of photo %s undone by user %s", review.pk, review.photo_id, user.pk)


def last_review(photo, user=None):
    """Return the newest review of `photo` that was not undone, by `user` when given."""
    reviews = Review.objects.filter(photo=photo, withdrawn_at__isnull=True)
    if user is not None:
        reviews = reviews.filter(author=user)
    return reviews.order_by("-created_at", "-id").first()
