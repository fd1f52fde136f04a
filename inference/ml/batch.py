"""Classifying a batch of photos: decode, transform, one forward pass, write predictions."""
import logging

import torch
from django.core.files.storage import default_storage

from inference.ml.network import IMAGE_SIZE
from inference.ml.predictor import classifier_for
from inference.ml.transforms import eval_transform
from inference.services.predictions import record_failures, record_predictions
from inspection.imaging import InvalidImage, open_photo
from inspection.models import Photo

logger = logging.getLogger(__name__)


def decode_photos(photos):
    """Return (tensors by photo id, failure reasons by photo id); one bad file spoils nothing else."""
    transform = eval_transform()
    tensors, failures = {}, {}
    for photo in photos:
        try:
            with default_storage.open(photo.file.name, "rb") as handle:
                image = open_photo(handle, target_size=IMAGE_SIZE)
            tensors[photo.id] = transform(image)
        except InvalidImage as error:
            failures[photo.id] = str(error)
        except FileNotFoundError:
            failures[photo.id] = "The photo's file is missing from storage."
    return tensors, failures


def classify_photos(photo_ids, version, run_id=None):
    """Classify the photos of `photo_ids` with `version`; return (new predictions, failures)."""
    photos = list(Photo.objects.filter(id__in=photo_ids).order_by("id"))
    tensors, failures = decode_photos(photos)
    record_failures(failures, run_id)
    if not tensors:
        return 0, len(failures)
    classifier = classifier_for(version)
    logits = classifier.logits(torch.stack(list(tensors.values())))
    created = record_predictions(version, dict(zip(tensors, logits)), run_id)
    return created, len(failures)
