"""End-to-end inference throughput on the shared SOFAR photos, fast path against naive.

Both paths read each photo from media storage, decode it, EXIF-rotate it, resize it, run
the model and write its prediction, on the same photos in the same run:
- naive: full-resolution decode, one photo at a time, eager PyTorch, one write per photo;
- fast: the worker's path (inference.ml.batch.classify_photos): reduced-size JPEG
  decoding, decoding threads overlapping the forward pass, batches, and ONNX Runtime on
  CPU or PyTorch with channels-last and bf16 autocast on CUDA.

Usage: python bench/throughput.py [--repeat 2] [--naive-limit 20]
"""
import argparse
import time
from collections import Counter

from common import benchmark_classifier, create_version, per_photo_ms, setup_django, shared_photo_files, store_shared_photos


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=2, help="timed passes of the fast path over the photos (default 2)")
    parser.add_argument("--naive-limit", type=int, default=0, help="run the naive path on only this many photos (0: all)")
    parser.add_argument("--forward-batches", type=int, default=3, help="batches timed for the forward-only figure (default 3)")
    return parser.parse_args()


def run_naive(photo_ids, version, model, device):
    """Classify one photo at a time at full resolution with eager PyTorch; return (seconds, timings, logits)."""
    import torch
    from django.core.files.storage import default_storage

    from inference.ml.transforms import eval_transform
    from inference.services.predictions import record_predictions
    from inspection.imaging import open_photo
    from inspection.models import Photo

    transform = eval_transform()
    timings, logits_by_photo = Counter(), {}
    started = time.perf_counter()
    for photo_id in photo_ids:
        step = time.perf_counter()
        photo = Photo.objects.get(id=photo_id)
        timings["database"] += time.perf_counter() - step

        step = time.perf_counter()
        with default_storage.open(photo.file.name, "rb") as handle:
            tensor = transform(open_photo(handle))
        timings["decode"] += time.perf_counter() - step

        step = time.perf_counter()
        with torch.no_grad():
            logits = model(tensor.unsqueeze(0).to(device)).cpu().numpy()[0]
        timings["forward"] += time.perf_counter() - step
        logits_by_photo[photo_id] = logits

        step = time.perf_counter()
        record_predictions(version, {photo_id: logits})
        timings["database"] += time.perf_counter() - step
    return time.perf_counter() - started, timings, logits_by_photo


def run_fast(photo_ids, version, batch_size, passes):
    """Classify the photos in worker-sized batches `passes` times; return (seconds, timings).

    The version's predictions are deleted between passes, outside the timing, so every
    pass decodes, classifies and writes every photo again with the model already loaded.
    """
    from inference.ml.batch import classify_photos
    from inference.models import Prediction

    timings, seconds = Counter(), 0.0
    for _ in range(passes):
        Prediction.objects.filter(model_version=version).delete()
        started = time.perf_counter()
        for start in range(0, len(photo_ids), batch_size):
            classify_photos(photo_ids[start : start + batch_size], version, timings=timings)
        seconds += time.perf_counter() - started
    return seconds, timings


def forward_only(classifier, batch_size, batches):
    """Return photos per second of the forward pass alone on random input of one batch size."""
    import torch

    from inference.ml.network import IMAGE_SIZE

    batch = torch.randn(batch_size, 3, IMAGE_SIZE, IMAGE_SIZE)
    classifier.logits(batch)
    started = time.perf_counter()
    for _ in range(batches):
        classifier.logits(batch)
    return batch_size * batches / (time.perf_counter() - started)


def top2_of(logits):
    order = logits.argsort()[::-1]
    return int(order[0]), int(order[1])


def main():
    args = parse_args()
    setup_django()
    import numpy as np
    import torch
    from django.conf import settings

    from inference.ml.network import IMAGE_SIZE
    from inference.ml.predictor import Classifier, classifier_for
    from inference.ml.transforms import eval_transform
    from inference.models import Prediction
    from inspection.imaging import open_photo
    from inspection.models import Label, Photo

    files = shared_photo_files("SOFAR_DATASET", "CAR_DEFECT_RECOGNITION", "CAR_DIRT_RECOGNITION")
    photo_ids = sorted(set(store_shared_photos(files)))
    label_codes = list(Label.objects.order_by("position", "code").values_list("code", flat=True))
    model = benchmark_classifier(label_codes)
    naive_version = create_version(model, label_codes, "bench-naive")
    fast_version = create_version(model, label_codes, "bench-fast")
    warm_up_version = create_version(model, label_codes, "bench-warm-up")

    load_started = time.perf_counter()
    classifier = classifier_for(fast_version)
    load_seconds = time.perf_counter() - load_started
    batch_size = settings.SOFAR_INFERENCE_BATCH_SIZE
    print(
        f"{len(photo_ids)} photos, device {classifier.device}, backend {classifier.backend}, "
        f"torch threads {torch.get_num_threads()}, decode threads {settings.SOFAR_DECODE_THREADS}, batch {batch_size}, "
        f"bf16 {classifier.device.type == 'cuda' and settings.SOFAR_CUDA_BF16}, "
        f"GPU JPEG decoding {classifier.device.type == 'cuda' and settings.SOFAR_GPU_DECODE}; "
        f"model load {load_seconds:.1f} s (not counted below)"
    )

    model = model.to(classifier.device)
    naive_ids = photo_ids[: args.naive_limit] if args.naive_limit else photo_ids
    # One untimed photo per path, so neither pays for first-call set-up (kernels, CUDA context).
    run_naive(naive_ids[:1], warm_up_version, model, classifier.device)
    run_fast(photo_ids[:batch_size], fast_version, batch_size, 1)

    naive_seconds, naive_timings, naive_logits = run_naive(naive_ids, naive_version, model, classifier.device)
    naive_rate = len(naive_ids) / naive_seconds
    fast_seconds, fast_timings = run_fast(photo_ids, fast_version, batch_size, args.repeat)
    fast_count = len(photo_ids) * args.repeat
    fast_rate = fast_count / fast_seconds

    for name, seconds, count, timings in (
        ("naive", naive_seconds, len(naive_ids), naive_timings),
        ("fast", fast_seconds, fast_count, fast_timings),
    ):
        print(
            f"{name:6} {count / seconds:7.2f} photos/s end to end; per photo: decode {per_photo_ms(timings['decode'], count):.1f} ms, "
            f"forward {per_photo_ms(timings['forward'], count):.1f} ms, database {per_photo_ms(timings['database'], count):.1f} ms"
        )
    print("  (fast decode time is summed over the decoding threads, which overlap the forward pass)")
    print(f"fast / naive end to end: {fast_rate / naive_rate:.2f}x (target at least 5x on 2 CPU cores)")

    forward_rate = forward_only(classifier, batch_size, args.forward_batches)
    print(f"forward pass alone: {forward_rate:.2f} photos/s; end to end / forward alone: {fast_rate / forward_rate:.0%}")

    fast_predictions = Prediction.objects.filter(model_version=fast_version, photo_id__in=naive_ids)
    same_as_naive = sum(
        (prediction.top1_label.code, prediction.top2_label.code)
        == tuple(label_codes[index] for index in top2_of(naive_logits[prediction.photo_id]))
        for prediction in fast_predictions.select_related("top1_label", "top2_label")
    )
    print(f"top-2 labels, fast path vs naive path: {same_as_naive}/{len(naive_ids)} identical (reduced-size decoding changes pixels slightly)")

    if classifier.backend == "onnx":
        eager = Classifier(fast_version, backend="torch")
        transform = eval_transform()
        photos = Photo.objects.filter(id__in=photo_ids).order_by("id")
        tensors = []
        for photo in photos:
            with photo.file.open("rb") as handle:
                tensors.append(transform(open_photo(handle, target_size=IMAGE_SIZE)))
        inputs = torch.stack(tensors)
        onnx_logits, torch_logits = classifier.logits(inputs), eager.logits(inputs)
        identical = sum(top2_of(a) == top2_of(b) for a, b in zip(onnx_logits, torch_logits))
        print(
            f"top-2 labels, ONNX Runtime vs eager PyTorch on the same inputs: {identical}/{len(inputs)} identical, "
            f"max logit difference {np.abs(onnx_logits - torch_logits).max():.2e}"
        )


if __name__ == "__main__":
    main()
