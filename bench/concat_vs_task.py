"""One day of photos through the concatenated classifier against two task-centric ones.

The concatenated classifier (one softmax over the whole label scheme) labels Dirt and
Defect in one forward pass per photo. The older set-up ran a defect classifier
(NORMAL/DEFECT) and a dirt classifier (NORMAL/DIRT) one after the other, each decoding
and classifying every photo. Both go through the worker's path
(inference.ml.batch.classify_photos) on the same photos in the same run; forward passes
are counted at the model.

Usage: python bench/concat_vs_task.py [--copies 1]
"""
import argparse
import time
from datetime import date, datetime, time as clock

from common import benchmark_classifier, create_version, setup_django, shared_photo_files, store_shared_photos

DAY = date(2026, 11, 30)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=1, help="times each shared photo counts in the day (default 1)")
    return parser.parse_args()


def counting_forward_passes(counter):
    """Wrap Classifier.logits so that `counter["photos"]` counts each photo's forward pass."""
    from inference.ml.predictor import Classifier

    original = Classifier.logits

    def logits(self, batch):
        counter["photos"] += len(batch)
        return original(self, batch)

    Classifier.logits = logits


def classify_day(photo_ids, versions, batch_size):
    from inference.ml.batch import classify_photos

    started = time.perf_counter()
    for version in versions:
        for start in range(0, len(photo_ids), batch_size):
            classify_photos(photo_ids[start : start + batch_size], version)
    return time.perf_counter() - started


def main():
    args = parse_args()
    setup_django()
    from django.conf import settings
    from django.utils import timezone

    from inference.ml.predictor import Classifier
    from inspection.models import Label

    files = shared_photo_files("SOFAR_DATASET", "CAR_DEFECT_RECOGNITION", "CAR_DIRT_RECOGNITION")
    uploaded_at = timezone.make_aware(datetime.combine(DAY, clock(12)))
    photo_ids = sorted(set(store_shared_photos(files, uploaded_at=uploaded_at))) * args.copies
    scheme = list(Label.objects.order_by("position", "code").values_list("code", flat=True))
    batch_size = settings.SOFAR_INFERENCE_BATCH_SIZE
    counter = {"photos": 0}
    counting_forward_passes(counter)

    # Warm-up: load ONNX Runtime's or PyTorch's kernels once, outside both timings.
    warm_up = create_version(benchmark_classifier(scheme), scheme, "bench-warm-up")
    classify_day(photo_ids[:batch_size], [warm_up], batch_size)

    results = {}
    setups = {
        "concatenated (1 model, 10 labels)": [("bench-concatenated", scheme)],
        "task-centric (defect, then dirt)": [("bench-defect", ["NORMAL", "DEFECT"]), ("bench-dirt", ["NORMAL", "DIRT"])],
    }
    for name, models in setups.items():
        versions = [create_version(benchmark_classifier(codes, seed=index), codes, prefix) for index, (prefix, codes) in enumerate(models)]
        for version in versions:
            # Fills the local cache of weights and ONNX export, as a warm worker has it.
            Classifier(version)
        counter["photos"] = 0
        seconds = classify_day(photo_ids, versions, batch_size)
        results[name] = (seconds, counter["photos"])
        print(f"{name:36} {len(photo_ids)} photos: {seconds:6.1f} s, {counter['photos']} forward passes, {len(photo_ids) / seconds:.2f} photos/s")

    (concatenated_seconds, concatenated_passes), (task_seconds, task_passes) = results.values()
    print(f"task-centric / concatenated: {task_seconds / concatenated_seconds:.2f}x the time, {task_passes / concatenated_passes:.2f}x the forward passes")


if __name__ == "__main__":
    main()
