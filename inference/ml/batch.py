"""Classifying a batch of photos: decode, transform, forward pass, write predictions.

Photos are decoded in a thread pool while the model runs on the chunks already decoded.
Pillow releases the GIL while it decodes and resizes, so a GPU worker's CPU decodes the
next photos while the GPU classifies; on a CPU worker the two share the cores. With
SOFAR_GPU_DECODE a GPU worker's threads only read JPEG files and headers, and nvJPEG
decodes the JPEGs on the GPU.
"""
import io
import logging
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import torch
from django.conf import settings
from django.core.files.storage import default_storage

from inference.ml.gpu_decode import EncodedJpeg, decode_on_gpu, read_jpeg_header
from inference.ml.network import IMAGE_SIZE
from inference.ml.predictor import classifier_for
from inference.ml.transforms import eval_transform
from inference.services.predictions import record_failures, record_predictions
from inspection.imaging import InvalidImage, open_photo
from inspection.models import Photo

logger = logging.getLogger(__name__)

# Chunks per batch: the forward pass of one chunk overlaps the decoding of the next.
CHUNKS_PER_BATCH = 4
MIN_CHUNK_SIZE = 8
MISSING_FILE = "The photo's file is missing from storage."


def decode_photo(photo, transform, gpu_jpeg=False):
    """Return (photo id, tensor or EncodedJpeg, failure reason, seconds).

    One bad file spoils nothing else: its reason is returned instead of raised. A photo
    that could not be read for another reason comes back with neither item nor reason.
    """
    started = time.perf_counter()
    item, failure = None, None
    try:
        with default_storage.open(photo.file.name, "rb") as handle:
            data = handle.read()
        item = read_jpeg_header(data) if gpu_jpeg else None
        if item is None:
            item = transform(open_photo(io.BytesIO(data), target_size=IMAGE_SIZE))
    except InvalidImage as error:
        failure = str(error)
    except FileNotFoundError:
        failure = MISSING_FILE
    except Exception:
        # Anything else (a storage timeout, a permission error, a decoder bug) may pass on a
        # later attempt: the photo is neither classified nor failed, so its run item stays
        # queued and the stalled-run check queues it again.
        logger.exception("photo %s could not be read; left queued for a later attempt", photo.id)
    return photo.id, item, failure, time.perf_counter() - started


def chunk_size_for(count):
    return max(MIN_CHUNK_SIZE, -(-count // CHUNKS_PER_BATCH))


def chunk_tensors(photo_ids, items, device, transform, failures):
    """Return (photo ids, (N, 3, H, W) batch on `device`) of a chunk, decoding its JPEGs on the GPU.

    nvJPEG fails a whole call on one bad file, so a chunk it rejects is decoded again with
    Pillow, photo by photo, and only the bad photos fail.
    """
    encoded = [item for item in items if isinstance(item, EncodedJpeg)]
    decoded = {}
    if encoded:
        try:
            decoded = dict(zip(map(id, encoded), decode_on_gpu(encoded, device)))
        except RuntimeError as error:
            logger.warning("nvJPEG rejected a chunk of %d photos (%s); decoding it with Pillow", len(encoded), error)
    kept_ids, tensors = [], []
    for photo_id, item in zip(photo_ids, items):
        if isinstance(item, EncodedJpeg):
            tensor = decoded.get(id(item))
            if tensor is None:
                try:
                    tensor = transform(open_photo(io.BytesIO(item.data), target_size=IMAGE_SIZE))
                except InvalidImage as error:
                    failures[photo_id] = str(error)
                    continue
            item = tensor
        kept_ids.append(photo_id)
        tensors.append(item.to(device, non_blocking=True))
    return kept_ids, torch.stack(tensors) if tensors else None


def classify_photos(photo_ids, version, run_id=None, timings=None):
    """Classify the photos of `photo_ids` with `version`; return (new predictions, failures).

    `timings`, a Counter when given, receives the seconds spent decoding (summed over the
    decoding threads), in the forward pass and in the database.
    """
    spent = Counter()
    started = time.perf_counter()
    photos = list(Photo.objects.filter(id__in=photo_ids).order_by("id"))
    spent["database"] += time.perf_counter() - started

    classifier = classifier_for(version)
    gpu_jpeg = classifier.device.type == "cuda" and settings.SOFAR_GPU_DECODE
    transform = eval_transform()
    logits_by_photo, failures = {}, {}
    chunk_size = chunk_size_for(len(photos))
    with ThreadPoolExecutor(max_workers=max(1, settings.SOFAR_DECODE_THREADS)) as pool:
        decoded = pool.map(lambda photo: decode_photo(photo, transform, gpu_jpeg), photos)
        chunk_ids, chunk_items = [], []
        for index, (photo_id, item, failure, seconds) in enumerate(decoded, start=1):
            spent["decode"] += seconds
            if failure is not None:
                failures[photo_id] = failure
            elif item is not None:
                chunk_ids.append(photo_id)
                chunk_items.append(item)
            if chunk_items and (len(chunk_items) >= chunk_size or index == len(photos)):
                step = time.perf_counter()
                kept_ids, batch = chunk_tensors(chunk_ids, chunk_items, classifier.device, transform, failures)
                spent["decode"] += time.perf_counter() - step
                if batch is not None:
                    step = time.perf_counter()
                    logits_by_photo.update(zip(kept_ids, classifier.logits(batch)))
                    spent["forward"] += time.perf_counter() - step
                chunk_ids, chunk_items = [], []

    started = time.perf_counter()
    record_failures(failures, run_id)
    created = record_predictions(version, logits_by_photo, run_id)
    spent["database"] += time.perf_counter() - started
    logger.info(
        "classified %d photos with %s: decode %.2f s over %d threads, forward %.2f s, database %.2f s",
        len(logits_by_photo), version.name, spent["decode"], settings.SOFAR_DECODE_THREADS,
        spent["forward"], spent["database"],
    )
    if timings is not None:
        timings.update(spent)
    return created, len(failures)
