"""The engineering cost of a system: models, forward passes, prediction tables and measured time."""
import time
from dataclasses import asdict

import torch

from inference.evaluation.datasets import load_any_photo
from inference.ml.transforms import eval_transform

TIMING_PHOTOS = 16


@torch.inference_mode()
def seconds_per_photo(model, photos, forward_passes):
    """Measure decode, transform and `forward_passes` full network passes per photo, as a worker runs them.

    Each task-centric classifier is its own network in production, so each pass decodes
    and runs the whole network again; the shared weights here change nothing in the timing.
    """
    sample = photos[:TIMING_PHOTOS]
    transform = eval_transform()
    model.eval()
    model(transform(load_any_photo(sample[0])).unsqueeze(0))  # Warm-up: the first call allocates buffers.
    started = time.perf_counter()
    for _ in range(forward_passes):
        batch = torch.stack([transform(load_any_photo(photo)) for photo in sample])
        model(batch)
    return (time.perf_counter() - started) / len(sample)


def cost_table(systems, model, photos):
    """Return {system name: cost figures}, timing each distinct number of forward passes once."""
    timings = {}
    table = {}
    for system in systems:
        passes = system.cost.forward_passes_per_photo
        if passes not in timings:
            timings[passes] = seconds_per_photo(model, photos, passes)
        table[system.name] = {**asdict(system.cost), "seconds_per_1000_photos": round(timings[passes] * 1000, 1)}
    return table
